"""The tiny configs the tests train (seconds each on 2 cores): one place for both."""

TINY = dict(dataset="digits", epochs=6, batch_size=256, seed=0)  # the trainer and store tests' run
# the app's two runs (simclr, supervised): the default recipe, 3 epochs
TINY_APP = dict(dataset="digits", subset=None, epochs=3)
