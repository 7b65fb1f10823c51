#!/bin/sh
# No key, no start: the app signs its session cookies with it. One line in
# the container's log names what is missing (app/secret_key.py).
exec python3 app/secret_key.py
