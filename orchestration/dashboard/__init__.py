"""The product's own dashboard: a static page and PNGs drawn from the published marts after every publish."""
