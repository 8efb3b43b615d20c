"""Index-free sparse training on the sparsity x weight FeFET chip (seed 000, Ning et al. 2025)."""
