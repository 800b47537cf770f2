import os
import sys

# tests/problems.py is the shared problem library (also used by benchmarks/)
sys.path.insert(0, os.path.dirname(__file__))
