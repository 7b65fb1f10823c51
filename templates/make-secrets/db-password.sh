# secrets/db_password: the database's password (compose's db service).
# Read by the app (that uid) and by PostgreSQL (uid 999) in their containers.
make_secret secrets/db_password
chmod 644 secrets/db_password
