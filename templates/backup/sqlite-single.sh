# SQLite, in the app's container: APP_CONTAINER names it when install.sh
# was given another name (--name).
extension=sqlite3

in_app() {
    docker exec --interactive "${APP_CONTAINER:-{{ cookiecutter.container_name }}}" "$@"
}
