"""``python -m cnnlab ...`` runs the ``cnnlab`` command line."""

from cnnlab.cli import main

if __name__ == "__main__":
    main(prog_name="cnnlab")
