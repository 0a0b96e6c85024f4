"""`python -m examples.digits_cnn`: ten rounds of four hospitals, printed round by round."""
from examples.digits_cnn.run import run

for record in run().rounds:
    print(f"round {record.index}: {record.status}, {record.scores}")
