#!/bin/sh
# The database's schema at the newest migration (migrations/versions/)
# before the app serves: one container, so nothing races it. At the newest
# already, this changes nothing; a migration that fails stops the start.
exec flask db upgrade
