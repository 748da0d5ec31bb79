"""Pure image steps: arrays in, arrays out. Ink on paper, MNIST form, rulings taken out."""
