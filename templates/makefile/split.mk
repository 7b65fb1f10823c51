# Updates replace the app's containers without an outage (scripts/deploy.sh).
up: ## build the images and start the containers, or update them
	scripts/deploy.sh

rollback: ## run the images before the last make up again (again: forward)
	scripts/deploy.sh --rollback

logs: ## follow the logs
	docker compose logs --follow

down: ## stop and remove the containers (the data volume stays)
	docker compose down
