"""Rows/s into pandas, one way per run: the Parquet files read by pyarrow directly (the limit),
pyarrow.flight's DoGet with a JSON ticket, and ADBC's Flight SQL driver. Prints one JSON object:
{"rows": {way: n}, "seconds": {way: [s, …]}}.

usage: flight_pandas.py grpc://HOST:PORT TOKEN RUNS SQL FILE…
"""
import json
import sys
import time

import adbc_driver_flightsql.dbapi as flight_sql
import pyarrow.dataset as ds
import pyarrow.flight as flight
from adbc_driver_flightsql import DatabaseOptions

uri, token, runs, sql = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
files = sys.argv[5:]
headers = [(b"authorization", f"Bearer {token}".encode())]


def parquet():
    return ds.dataset(files, format="parquet").to_table().to_pandas()


def pyarrow_flight():
    client = flight.FlightClient(uri)
    ticket = flight.Ticket(json.dumps({"sql": sql}).encode())
    frame = client.do_get(ticket, flight.FlightCallOptions(headers=headers)).read_pandas()
    client.close()
    return frame


def adbc():
    options = {DatabaseOptions.AUTHORIZATION_HEADER.value: f"Bearer {token}"}
    with flight_sql.connect(uri, db_kwargs=options) as conn, conn.cursor() as cur:
        cur.execute(sql)
        return cur.fetch_df()


ways = {"parquet": parquet, "flight": pyarrow_flight, "adbc": adbc}
rows, seconds = {}, {name: [] for name in ways}
for _ in range(runs):
    for name, way in ways.items():
        began = time.perf_counter()
        frame = way()
        seconds[name].append(time.perf_counter() - began)
        rows[name] = len(frame)
        del frame
print(json.dumps({"rows": rows, "seconds": seconds}))
