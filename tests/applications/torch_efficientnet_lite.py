"""A PyTorch EfficientNet-Lite0, written from the architecture's public description.

Tan & Le (2019), "EfficientNet", Table 1 (the B0 stages), with the Lite changes of the
TensorFlow release (no squeeze-and-excitation, ReLU6, stem and head not scaled),
TensorFlow "SAME" padding (the odd extra row and column after), BatchNorm eps 1e-3.
Module names follow the published state dict (``_conv_stem``, ``_blocks.N._bn1`` ...), so
``load_state_dict(strict=True)`` checks that the structure matches the weights.
"""

import math

from torch import nn
from torch.nn import functional

STAGES = ((1, 3, 1, 1, 16), (2, 3, 2, 6, 24), (2, 5, 2, 6, 40), (3, 3, 2, 6, 80),
          (3, 5, 1, 6, 112), (4, 5, 2, 6, 192), (1, 3, 1, 6, 320))  # fmt: skip


class SameConv2d(nn.Conv2d):
    """Conv2d with TensorFlow's SAME padding: output ceil(I / S), extra cell after."""

    def forward(self, x):
        pads = []
        for size, k, s in zip(
            x.shape[:1:-1], self.kernel_size[::-1], self.stride[::-1], strict=True
        ):
            total = max((math.ceil(size / s) - 1) * s + k - size, 0)
            pads += [total // 2, total - total // 2]
        return functional.conv2d(
            functional.pad(x, pads), self.weight, self.bias, self.stride, 0, 1, self.groups
        )


def bn(channels):
    return nn.BatchNorm2d(channels, eps=1e-3, momentum=0.01)


class MBConv(nn.Module):
    def __init__(self, cin, kernel, stride, expand, cout):
        super().__init__()
        mid = cin * expand
        self.expand = expand != 1
        if self.expand:
            self._expand_conv = SameConv2d(cin, mid, 1, bias=False)
            self._bn0 = bn(mid)
        self._depthwise_conv = SameConv2d(mid, mid, kernel, stride, groups=mid, bias=False)
        self._bn1 = bn(mid)
        self._project_conv = SameConv2d(mid, cout, 1, bias=False)
        self._bn2 = bn(cout)
        self.skip = stride == 1 and cin == cout

    def forward(self, x):
        y = functional.relu6(self._bn0(self._expand_conv(x))) if self.expand else x
        y = functional.relu6(self._bn1(self._depthwise_conv(y)))
        y = self._bn2(self._project_conv(y))
        return y + x if self.skip else y


class EfficientNetLite0(nn.Module):
    def __init__(self, classes=1000):
        super().__init__()
        self._conv_stem = SameConv2d(3, 32, 3, 2, bias=False)
        self._bn0 = bn(32)
        blocks, cin = [], 32
        for repeats, kernel, stride, expand, cout in STAGES:
            for r in range(repeats):
                blocks.append(MBConv(cin, kernel, stride if r == 0 else 1, expand, cout))
                cin = cout
        self._blocks = nn.ModuleList(blocks)
        self._conv_head = SameConv2d(320, 1280, 1, bias=False)
        self._bn1 = bn(1280)
        self._dropout = nn.Dropout(0.2)
        self._fc = nn.Linear(1280, classes)

    def forward(self, x):
        x = functional.relu6(self._bn0(self._conv_stem(x)))
        for block in self._blocks:
            x = block(x)
        x = functional.relu6(self._bn1(self._conv_head(x)))
        return self._fc(self._dropout(x.mean(dim=(2, 3))))
