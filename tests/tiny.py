"""The tiny configs the tests train (seconds each on 2 cores): one place for both."""

TINY = dict(dataset="digits", epochs=6, batch_size=256, seed=0)  # the trainer and store tests' run
TINY_APP = dict(
    dataset="digits", subset=None, epochs=3, batch_size=256
)  # the app's two runs (simclr, supervised)
