"""One-shot (differentiable and weight-sharing) methods on the NB201 supernet."""
