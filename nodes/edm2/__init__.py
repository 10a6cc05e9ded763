"""The paper's EDM2 networks as ComfyUI models and nodes: loader, class conditioning, latents, images."""
