"""Developer tools of Seed Number: demo checkpoint, headless ComfyUI runner, demo, benchmarks."""
