"""How a model runs: sharding a batch over the cores, replaying recorded ops, starting
the next batches early, the allocator policy, and rewrites of recorded plans. The
training loop (``cnnlab.models.training``) calls this package; layers and ops never do.
"""
