# The broker's password, for swarm (compose makes its own): read by the app
# and the worker (that uid).
make_secret secrets/broker_password
chmod 644 secrets/broker_password
