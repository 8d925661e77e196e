"""`flask ocr read`: read plates from image files, one tab-separated line per file."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

ocr_cli = AppGroup("ocr", help="Licence-plate OCR.")


@ocr_cli.command("read")
@click.option("--cropped", is_flag=True, help="The images are plate crops, not whole vehicles.")
@click.argument(
    "files",
    nargs=-1,
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
)
def read_command(cropped: bool, files: tuple[Path, ...]) -> None:
    """Print FILE<TAB>PLATE<TAB>CONFIDENCE for each FILE.

    An unreadable plate prints an empty plate and 0.00. A file that is not an image prints
    the same line, a message on stderr, and makes the command exit non-zero once all files
    have been read.
    """
    from .pipeline import UnreadableImage, read_plate  # OpenCV loads only for this command

    failures = 0
    for path in files:
        try:
            result = read_plate(path.read_bytes(), cropped=cropped)
            plate, confidence = result.plate, result.confidence
        except UnreadableImage as exc:
            click.echo(f"{path}: not readable as an image: {exc}", err=True)
            failures += 1
            plate, confidence = "", 0.0
        click.echo(f"{path}\t{plate}\t{confidence:.2f}")
    if failures:
        raise click.exceptions.Exit(1)
