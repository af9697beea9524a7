"""Training: the default model's recipe (VAE, U-Net, ranker) and its data."""
