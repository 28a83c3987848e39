from pathlib import Path

from setuptools import find_packages, setup

setup(
    name="tf_lvae",
    version="0.2.0",
    description=(
        "Deep hierarchical VAEs and probabilistic Ladder VAEs in Keras 3 and "
        "TensorFlow Probability (Sønderby et al. 2016)"
    ),
    long_description=Path(__file__).with_name("README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    packages=find_packages(include=["tf_lvae*", "training*", "export*", "benchmarks*"]),
    package_data={"tf_lvae": ["data/samples/*.npz", "data/samples/README.md"]},
    install_requires=[
        "tensorflow>=2.18",
        "tensorflow-probability>=0.25",
        "tf-keras>=2.18",
        "tensorflow-datasets>=4.9",
        "tensorboard>=2.18",
        "importlib_resources>=6",  # tensorflow-datasets needs it to download datasets
        "keras>=3.6",
        "numpy>=1.26",
        "scipy>=1.11",
        "matplotlib>=3.8",
    ],
    extras_require={
        "gpu": ["tensorflow[and-cuda]>=2.18"],
        "dev": ["pytest>=8", "pytest-xdist>=3.8", "ruff>=0.6"],
    },
)
