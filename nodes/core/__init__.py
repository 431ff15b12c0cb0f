"""Pure logic of Seed Number: no ComfyUI import anywhere below this package."""
