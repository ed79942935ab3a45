import os
x = os.environ["A"]
y = os.getenv("B")
