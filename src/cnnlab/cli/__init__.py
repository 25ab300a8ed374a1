"""The ``cnnlab`` command: train, evaluate and inspect the lecture's MNIST models.

    cnnlab train convnet --epochs 5        # the lecture's convnet, with a progress bar
    cnnlab evaluate runs/convnet/model.keras
    cnnlab predict runs/convnet/model.keras my_digit.png
    cnnlab summary convnet
    cnnlab classify photo.jpg              # ImageNet top-5 with EfficientNet-Lite0
    cnnlab convert weights.pth weights.safetensors

Every command has ``--help``. Also runnable as ``python -m cnnlab``.
"""

import click

from cnnlab import __version__
from cnnlab.cli.errors import CnnlabGroup
from cnnlab.cli.evaluate import evaluate
from cnnlab.cli.predict import predict
from cnnlab.cli.summary import summary
from cnnlab.cli.train import train


@click.group(cls=CnnlabGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="cnnlab")
def main():
    """cnnlab: convolutional neural networks from first principles, in NumPy."""


main.add_command(train)
main.add_command(evaluate)
main.add_command(predict)
main.add_command(summary)
# -- explain / filter / viz commands (registered by their own modules' authors) --
from cnnlab.cli import viz_data  # noqa: E402, F401  (registers viz augment / viz dataset)
from cnnlab.cli.explain import explain  # noqa: E402
from cnnlab.cli.filter import filter_command  # noqa: E402
from cnnlab.cli.viz import viz  # noqa: E402

main.add_command(explain)
main.add_command(filter_command)
main.add_command(viz)
# -- the web page --
from cnnlab.cli.serve import serve  # noqa: E402

main.add_command(serve)
from cnnlab.cli.tune import tune  # noqa: E402

main.add_command(tune)

# -- transfer learning: ImageNet classification and weight conversion --
from cnnlab.cli.transfer import classify, convert  # noqa: E402

main.add_command(classify)
main.add_command(convert)

__all__ = ["main"]
