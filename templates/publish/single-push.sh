publish "$image"
