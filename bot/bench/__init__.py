"""``hirebot bench …``: commands that measure hirebot and print the figures we quote.

Empty on purpose: the benches pull in numpy, PyAV and the sandbox (the whole runtime), and
only ``hirebot bench`` should pay for that (see bot.bench.commands).
"""
