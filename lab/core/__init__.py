"""The training engine: datasets as uint8 tensors (data), batched augmentation on the device
(augment), encoders (models), objectives (losses), methods that own their parameters (methods),
the run config (config), the device choice (device) and the training loop (train)."""
