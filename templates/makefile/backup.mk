
# The database's backups, while the app runs (docs/operating.md#backups).
backup: ## back the database up into backups/
	scripts/backup.sh

restore: ## put a backup back: make restore FILE=backups/...
	scripts/backup.sh --restore "$(FILE)"
