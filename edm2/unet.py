"""The EDM2 network: MP residual blocks, the encoder/decoder UNet and the preconditioning.

D(x; σ, c) = c_skip·x + c_out·F(c_in·x; c_noise, c) with σ_data = 0.5 (EDM, Karras et al.
2022, Table 1; EDM2 config), c_skip = σ_d²/(σ² + σ_d²), c_out = σ·σ_d/√(σ² + σ_d²),
c_in = 1/√(σ² + σ_d²), c_noise = ¼·ln σ. Parameter names match the official checkpoints.
The constructors keep one argument per line with aligned comments, as the official
networks_edm2.py does, so they sit between ``# fmt: off`` and ``# fmt: on``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, cast

import torch
import torch.nn.functional as F
from einops import rearrange
from torch import Tensor, nn

from .layers import MPConv, MPFourier, mp_cat, mp_silu, mp_sum, normalize, resample


class Block(nn.Module):
    """One MP residual block ('enc' or 'dec' flavour), optionally resampling and with self-attention."""

    # fmt: off
    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        emb_channels: int,
        flavor: str = "enc",             # 'enc' projects and pixel-normalises before the residual branch
        resample_mode: str = "keep",     # 'keep', 'up' or 'down'
        resample_filter: list[int] | None = None,  # only the box filter [1, 1] is used by EDM2
        attention: bool = False,         # self-attention after the residual branch
        channels_per_head: int = 64,
        dropout: float = 0.0,
        res_balance: float = 0.3,        # main branch (0) vs residual branch (1)
        attn_balance: float = 0.3,       # main branch (0) vs attention (1)
        clip_act: float | None = 256,    # clamp activations to ±clip_act
    ):
        super().__init__()
        if resample_filter not in (None, [1, 1], (1, 1)):
            raise ValueError(f"EDM2 Block: only resample_filter [1, 1] is supported (got {resample_filter})")
        self.out_channels, self.flavor, self.resample_mode = out_channels, flavor, resample_mode
        self.num_heads = out_channels // channels_per_head if attention else 0
        self.dropout, self.res_balance = dropout, res_balance
        self.attn_balance, self.clip_act = attn_balance, clip_act
        self.emb_gain = nn.Parameter(torch.zeros([]))
        self.conv_res0 = MPConv(out_channels if flavor == "enc" else in_channels, out_channels, kernel=[3, 3])
        self.emb_linear = MPConv(emb_channels, out_channels, kernel=[])
        self.conv_res1 = MPConv(out_channels, out_channels, kernel=[3, 3])
        skip = in_channels != out_channels
        self.conv_skip = MPConv(in_channels, out_channels, kernel=[1, 1]) if skip else None
        self.attn_qkv = MPConv(out_channels, out_channels * 3, kernel=[1, 1]) if self.num_heads else None
        self.attn_proj = MPConv(out_channels, out_channels, kernel=[1, 1]) if self.num_heads else None
    # fmt: on

    def forward(self, x: Tensor, emb: Tensor) -> Tensor:
        x = resample(x, self.resample_mode)
        if self.flavor == "enc":
            if self.conv_skip is not None:
                x = self.conv_skip(x)
            x = normalize(x, dim=1)  # pixel norm
        y = self.conv_res0(mp_silu(x))
        scale = self.emb_linear(emb, gain=self.emb_gain) + 1  # [B, C]
        y = mp_silu(y * scale[:, :, None, None].to(y.dtype))
        if self.training and self.dropout:
            y = F.dropout(y, p=self.dropout)
        y = self.conv_res1(y)
        if self.flavor == "dec" and self.conv_skip is not None:
            x = self.conv_skip(x)
        x = mp_sum(x, y, t=self.res_balance)
        if self.num_heads:
            x = mp_sum(x, self._attention(x), t=self.attn_balance)
        if self.clip_act is not None:
            x = x.clip(-self.clip_act, self.clip_act)
        return x

    def _attention(self, x: Tensor) -> Tensor:
        """Cosine attention: q, k, v pixel-normalised per head, softmax(q·k/√c)·v."""
        assert self.attn_qkv is not None and self.attn_proj is not None  # built whenever num_heads > 0
        qkv = self.attn_qkv(x)  # [B, 3C, H, W], channels ordered (head, c, qkv)
        qkv = rearrange(qkv, "b (h c three) y x -> three b h (y x) c", h=self.num_heads, three=3)
        q, k, v = normalize(qkv, dim=4).unbind(0)  # each [B, heads, HW, c]
        y = F.scaled_dot_product_attention(q, k, v)  # softmax(q·kᵀ/√c)·v
        y = rearrange(y, "b h (y x) c -> b (h c) y x", y=x.shape[2])
        return cast(Tensor, self.attn_proj(y))


def _encoder(
    levels: list[tuple[int, int]],
    cin: int,
    num_blocks: int,
    emb_channels: int,
    attn_resolutions: Sequence[int],
    **block_kwargs: Any,
) -> nn.ModuleDict:
    """The encoder in the official order and names: '64x64_conv', '64x64_block0', '32x32_down', …."""
    enc, cout = nn.ModuleDict(), cin
    for level, (res, channels) in enumerate(levels):
        if level == 0:
            enc[f"{res}x{res}_conv"] = MPConv(cout, channels, kernel=[3, 3])  # constant channel: a bias
            cout = channels
        else:
            enc[f"{res}x{res}_down"] = Block(
                cout, cout, emb_channels, flavor="enc", resample_mode="down", **block_kwargs
            )
        for i in range(num_blocks):
            enc[f"{res}x{res}_block{i}"] = Block(
                cout, channels, emb_channels, flavor="enc", attention=res in attn_resolutions, **block_kwargs
            )
            cout = channels
    return enc


def _decoder(
    levels: list[tuple[int, int]],
    skips: list[int],
    num_blocks: int,
    emb_channels: int,
    attn_resolutions: Sequence[int],
    **block_kwargs: Any,
) -> nn.ModuleDict:
    """The decoder: '8x8_in0', '8x8_in1', '8x8_block0', …, '16x16_up', …; each block eats one skip."""
    dec, cout = nn.ModuleDict(), levels[-1][1]
    kwargs: dict[str, Any] = dict(emb_channels=emb_channels, flavor="dec", **block_kwargs)
    for level, (res, channels) in reversed(list(enumerate(levels))):
        if level == len(levels) - 1:
            dec[f"{res}x{res}_in0"] = Block(cout, cout, attention=True, **kwargs)
            dec[f"{res}x{res}_in1"] = Block(cout, cout, **kwargs)
        else:
            dec[f"{res}x{res}_up"] = Block(cout, cout, resample_mode="up", **kwargs)
        for i in range(num_blocks + 1):
            dec[f"{res}x{res}_block{i}"] = Block(
                cout + skips.pop(), channels, attention=res in attn_resolutions, **kwargs
            )
            cout = channels
    return dec


class UNet(nn.Module):
    """The EDM2 encoder/decoder UNet F(x; c_noise, c)."""

    # fmt: off
    def __init__(
        self,
        img_resolution: int,
        img_channels: int,
        label_dim: int,                  # 0 = unconditional
        model_channels: int = 192,       # base channel count
        channel_mult: Sequence[int] = (1, 2, 3, 4),  # per-resolution multipliers
        channel_mult_noise: int | None = None,   # noise-embedding width (None: channel_mult[0])
        channel_mult_emb: int | None = None,     # embedding width (None: max(channel_mult))
        num_blocks: int = 3,             # residual blocks per resolution
        attn_resolutions: Sequence[int] = (16, 8),  # resolutions with self-attention
        label_balance: float = 0.5,      # noise embedding (0) vs class embedding (1)
        concat_balance: float = 0.5,     # skip connections (0) vs main path (1)
        **block_kwargs: Any,
    ):
        super().__init__()
        cblock = [model_channels * m for m in channel_mult]
        cnoise = model_channels * channel_mult_noise if channel_mult_noise is not None else cblock[0]
        cemb = model_channels * channel_mult_emb if channel_mult_emb is not None else max(cblock)
        self.label_balance, self.concat_balance = label_balance, concat_balance
        self.out_gain = nn.Parameter(torch.zeros([]))
        self.emb_fourier = MPFourier(cnoise)
        self.emb_noise = MPConv(cnoise, cemb, kernel=[])
        self.emb_label = MPConv(label_dim, cemb, kernel=[]) if label_dim else None
        levels = [(img_resolution >> level, channels) for level, channels in enumerate(cblock)]  # (res, ch)
        kwargs: dict[str, Any] = dict(emb_channels=cemb, attn_resolutions=attn_resolutions, **block_kwargs)
        self.enc = _encoder(levels, img_channels + 1, num_blocks, **kwargs)  # +1: a constant-one channel
        skips = [cast(int, block.out_channels) for block in self.enc.values()]  # MPConv or Block
        self.dec = _decoder(levels, skips, num_blocks, **kwargs)
        self.out_conv = MPConv(cblock[0], img_channels, kernel=[3, 3])
    # fmt: on

    def forward(self, x: Tensor, noise_labels: Tensor, class_labels: Tensor | None) -> Tensor:
        emb = self.emb_noise(self.emb_fourier(noise_labels))  # [B, cemb]
        if self.emb_label is not None:
            assert class_labels is not None  # EDM2.labels_or_zeros gives conditional models labels
            emb = mp_sum(
                emb, self.emb_label(class_labels * math.sqrt(class_labels.shape[1])), t=self.label_balance
            )
        emb = mp_silu(emb)
        x = torch.cat([x, torch.ones_like(x[:, :1])], dim=1)
        skips = []
        for name, block in self.enc.items():
            x = block(x) if name.endswith("_conv") else block(x, emb)
            skips.append(x)
        for name, block in self.dec.items():
            if "block" in name:
                x = mp_cat(x, skips.pop(), t=self.concat_balance)
            x = block(x, emb)
        return cast(Tensor, self.out_conv(x, gain=self.out_gain))


class EDM2(nn.Module):
    """The preconditioned EDM2 denoiser D(x; σ, c); same constructor arguments as the official ``Precond``."""

    # fmt: off
    def __init__(
        self,
        img_resolution: int,
        img_channels: int,
        label_dim: int,                  # 0 = unconditional
        sigma_data: float = 0.5,
        logvar_channels: int = 128,      # width of the uncertainty head u(σ) (training only)
        **unet_kwargs: Any,
    ):
        super().__init__()
        self.img_resolution, self.img_channels, self.label_dim = img_resolution, img_channels, label_dim
        self.sigma_data = sigma_data
        self.config = {"img_resolution": img_resolution, "img_channels": img_channels, "label_dim": label_dim,
                       "sigma_data": sigma_data, "logvar_channels": logvar_channels,
                       **unet_kwargs}
        self.unet = UNet(img_resolution=img_resolution, img_channels=img_channels, label_dim=label_dim,
                         **unet_kwargs)
        self.logvar_fourier = MPFourier(logvar_channels)
        self.logvar_linear = MPConv(logvar_channels, 1, kernel=[])
    # fmt: on

    def cache_normalized_weights(self, enabled: bool = True) -> None:
        """Turn the eval-mode cache of normalised weights on (default) or off (the official per-call path)."""
        for module in self.modules():
            if isinstance(module, MPConv):
                module.cache_enabled = enabled
                module.clear_cache()

    @property
    def compute_dtype(self) -> torch.dtype:
        return self.unet.out_gain.dtype

    def labels_or_zeros(self, class_labels: Tensor | None, device: torch.device) -> Tensor | None:
        """None for unconditional models; zero vectors (the official default) when none are given."""
        if not self.label_dim:
            return None
        if class_labels is None:
            return torch.zeros(1, self.label_dim, device=device)
        return class_labels.to(torch.float32).reshape(-1, self.label_dim)

    def forward(
        self,
        x: Tensor,
        sigma: Tensor | float,
        class_labels: Tensor | None = None,
        return_logvar: bool = False,
    ) -> Tensor | tuple[Tensor, Tensor]:
        x = x.to(torch.float32)
        sigma = torch.as_tensor(sigma, dtype=torch.float32, device=x.device).reshape(-1, 1, 1, 1)
        labels = self.labels_or_zeros(class_labels, x.device)
        sd2 = self.sigma_data**2
        c_skip = sd2 / (sigma**2 + sd2)
        c_out = sigma * self.sigma_data / (sigma**2 + sd2).sqrt()
        c_in = 1 / (sd2 + sigma**2).sqrt()
        c_noise = sigma.flatten().log() / 4
        if c_noise.shape[0] == 1 and x.shape[0] > 1:
            c_noise = c_noise.expand(x.shape[0])
        # Only the image path runs in the weights' dtype; noise and label embeddings stay float32.
        f_x: Tensor = self.unet((c_in * x).to(self.compute_dtype), c_noise, labels)
        denoised = c_skip * x + c_out * f_x.to(torch.float32)
        if return_logvar:
            logvar = self.logvar_linear(self.logvar_fourier(c_noise)).reshape(-1, 1, 1, 1)
            return denoised, logvar
        return denoised
