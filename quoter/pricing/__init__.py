"""The pure pricing core: delivery periods, curves, and the price of a delivery."""
