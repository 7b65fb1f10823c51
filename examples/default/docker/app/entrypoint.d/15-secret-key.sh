#!/bin/sh
# Settle the app's secret key before it serves (app/secret_key.py): a given
# file or variable, else one kept in the data volume, made on the first
# start. One line in the log says which; a key that is wanted but missing,
# empty or unreadable stops the start with one line.
exec python3 app/secret_key.py
