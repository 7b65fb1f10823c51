# SQLite, in the data volume every app replica shares: one of them does it.
extension=sqlite3

in_app() {
    docker compose exec -T app "$@"
}
