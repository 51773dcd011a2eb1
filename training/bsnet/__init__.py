"""BS-Net (Signoroni et al. 2021) in PyTorch, numerically faithful to the authors' Keras code."""
