"""Quality scores used by DSen2: RMSE (DN), SRE (dB), SAM (degrees), UIQ; and PSNR and SSIM."""
import numpy as np

from .degrade import gaussian_blur


def rmse(ref, est):
    """Per-band root mean square error, arrays (bands, rows, cols)."""
    return np.sqrt(((ref.astype(np.float64) - est) ** 2).mean(axis=(1, 2)))


def sre(ref, est):
    """Per-band signal-to-reconstruction error in dB: 10 log10(mean(ref)^2 / MSE)."""
    ref = ref.astype(np.float64)
    mse = ((ref - est) ** 2).mean(axis=(1, 2))
    return 10.0 * np.log10(ref.mean(axis=(1, 2)) ** 2 / np.maximum(mse, 1e-12))


def sam(ref, est):
    """Mean spectral angle in degrees between the band vectors of each pixel."""
    ref = ref.astype(np.float64).reshape(ref.shape[0], -1)
    est = est.astype(np.float64).reshape(est.shape[0], -1)
    cos = (ref * est).sum(0) / np.maximum(np.linalg.norm(ref, axis=0) * np.linalg.norm(est, axis=0), 1e-12)
    return float(np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))).mean())


def uiq(ref, est):
    """Per-band universal image quality index (Wang & Bovik), computed over the whole band."""
    ref = ref.astype(np.float64).reshape(ref.shape[0], -1)
    est = est.astype(np.float64).reshape(est.shape[0], -1)
    mr, me = ref.mean(1), est.mean(1)
    vr, ve = ref.var(1), est.var(1)
    cov = ((ref - mr[:, None]) * (est - me[:, None])).mean(1)
    return 4 * cov * mr * me / np.maximum((vr + ve) * (mr ** 2 + me ** 2), 1e-12)


def psnr(ref, est):
    """Per-band peak signal-to-noise ratio in dB, the peak being the band's maximum in the reference."""
    ref = ref.astype(np.float64)
    mse = ((ref - est) ** 2).mean(axis=(1, 2))
    return 10.0 * np.log10(ref.max(axis=(1, 2)) ** 2 / np.maximum(mse, 1e-12))


def ssim(ref, est, sigma=1.5):
    """Per-band mean structural similarity (Wang et al. 2004; Gaussian window of sigma 1.5 px, K1 0.01, K2 0.03,
    dynamic range = the reference band's range)."""
    ref = ref.astype(np.float64)
    span = np.maximum(ref.max(axis=(1, 2)) - ref.min(axis=(1, 2)), 1e-6)[:, None, None]
    low = ref.min(axis=(1, 2))[:, None, None]
    ref, est = (ref - low) / span, (est - low) / span  # to [0, 1], where float32 blurs are exact enough
    c1, c2 = 0.01 ** 2, 0.03 ** 2
    mr, me = gaussian_blur(ref, sigma), gaussian_blur(est, sigma)
    vr = gaussian_blur(ref * ref, sigma) - mr * mr
    ve = gaussian_blur(est * est, sigma) - me * me
    cov = gaussian_blur(ref * est, sigma) - mr * me
    index = (2 * mr * me + c1) * (2 * cov + c2) / ((mr * mr + me * me + c1) * (vr + ve + c2))
    return index.mean(axis=(1, 2)).astype(np.float64)


def scores(ref, est):
    """All scores for one image: per-band arrays and the scalar SAM."""
    return {"rmse": rmse(ref, est), "sre": sre(ref, est), "uiq": uiq(ref, est), "sam": sam(ref, est)}


def spearman(a, b):
    """Spearman rank correlation of two 1-D arrays (ties broken by position)."""
    ranks = [np.empty(len(x)) for x in (a, b)]
    for r, x in zip(ranks, (a, b)):
        r[np.argsort(x, kind="stable")] = np.arange(len(x))
    return float(np.corrcoef(*ranks)[0, 1])
