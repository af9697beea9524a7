"""Training: the default model's recipe (VAE, U-Net, chroma prior) and its data."""
