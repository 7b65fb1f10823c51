#!/bin/sh
# Settle the app's secret key before it serves (app/secret_key.py): a given
# file or variable, else one kept in the data volume, made on the first
# start. One line in the log says which; a key that is wanted but missing,
# empty or unreadable stops the start with one line. Python's standard
# library alone (-I -S: no site-packages, no PYTHON* variables): the
# quickest start.
exec python3 -I -S app/secret_key.py
