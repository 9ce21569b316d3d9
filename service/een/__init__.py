"""Enterprise Europe Network partnering profiles: mapping in, expressions of interest out."""
