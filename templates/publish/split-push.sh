publish "$image-app" --target app
publish "$image-proxy" --target proxy
