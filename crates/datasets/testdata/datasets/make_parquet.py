#!/usr/bin/env python3
"""Writes tiny_hf.parquet the way Hugging Face `datasets` does: pyarrow, snappy compression,
a ClassLabel's names in the `huggingface` schema metadata. Run once; the output is committed.

    pip install pyarrow==26.0.1 && python3 make_parquet.py
"""
import json
import pyarrow as pa
import pyarrow.parquet as pq

features = {
    "idx": {"dtype": "int32", "_type": "Value"},
    "text": {"dtype": "string", "_type": "Value"},
    "label": {"names": ["negative", "positive"], "_type": "ClassLabel"},
}
table = pa.table(
    {
        "idx": pa.array([10, 11, 12, 13, 14], pa.int32()),
        "text": ["a gripping, funny film", "dull.", "café crème — très bien", "", "worst of the year"],
        "label": pa.array([1, 0, 1, 0, 0], pa.int64()),
    }
)
table = table.replace_schema_metadata({"huggingface": json.dumps({"info": {"features": features}})})
pq.write_table(table, "tiny_hf.parquet", compression="snappy")
print(pq.read_table("tiny_hf.parquet").to_pylist())
