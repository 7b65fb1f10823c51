# Updates replace the app's containers without an outage (scripts/deploy.sh).
up: ## build the images and start the containers, or update them
	scripts/deploy.sh

logs: ## follow the logs
	docker compose logs --follow

down: ## stop and remove the containers (the data volume stays)
	docker compose down
