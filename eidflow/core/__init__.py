"""The pure middle of the pipeline: frames in, frames out; no files, Prefect, S3 or Graph."""
