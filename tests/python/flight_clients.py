"""The Flight clients an analyst uses against a running Sonde server: ADBC's Flight SQL driver with
pandas (SQL and NetQL statements, the catalog through adbc_get_objects) and pyarrow.flight with JSON
tickets. Prints one JSON object of what each saw; the Rust test checks it.

usage: flight_clients.py grpc://HOST:PORT READ_TOKEN WRITE_TOKEN
"""
import json
import sys

import adbc_driver_flightsql.dbapi as flight_sql
import pyarrow.flight as flight
from adbc_driver_flightsql import DatabaseOptions

uri, read_token, write_token = sys.argv[1:4]


def connect(token):
    options = {}
    if token:
        options[DatabaseOptions.AUTHORIZATION_HEADER.value] = f"Bearer {token}"
    return flight_sql.connect(uri, db_kwargs=options)


def records(frame):
    return json.loads(frame.to_json(orient="records"))


def refusal(token, statement):
    """The message a statement is refused with, or None when it was answered."""
    try:
        with connect(token) as conn, conn.cursor() as cur:
            cur.execute(statement)
            cur.fetch_arrow_table()
            return None
    except Exception as error:  # the driver's own error classes differ between releases
        return str(error)


seen = {}
with connect(read_token) as conn, conn.cursor() as cur:
    cur.execute("SELECT hostname, peer, state, asn FROM bgp ORDER BY hostname, peer")
    seen["sql"] = records(cur.fetch_df())
    cur.execute('{"netql": "check bgp"}')
    seen["netql_check"] = records(cur.fetch_df())
    cur.execute('{"netql": "leaf01 show bgp"}')
    table = cur.fetch_arrow_table()
    seen["netql_show_columns"] = table.column_names
    seen["netql_show"] = records(table.to_pandas())
    seen["sql_error"] = refusal(read_token, "SELECT no_such_column FROM bgp")
    seen["netql_error"] = refusal(read_token, '{"netql": "show bgpp"}')
    objects = conn.adbc_get_objects(depth="all").read_all().to_pylist()
    tables = {}
    for catalog in objects:
        for schema in catalog["catalog_db_schemas"] or []:
            for entry in schema["db_schema_tables"] or []:
                columns = [c["column_name"] for c in entry["table_columns"] or []]
                tables[entry["table_name"]] = {"type": entry["table_type"], "columns": columns}
    seen["tables"] = tables
    seen["bgp_schema"] = conn.adbc_get_table_schema("bgp").names

seen["anonymous"] = refusal(None, "SELECT count(*) FROM bgp")
seen["wrong_token"] = refusal("guess", "SELECT count(*) FROM bgp")
seen["write_token_reads"] = refusal(write_token, "SELECT count(*) FROM bgp")

client = flight.FlightClient(uri)
options = flight.FlightCallOptions(headers=[(b"authorization", f"Bearer {read_token}".encode())])
ticket = flight.Ticket(json.dumps({"netql": "check bgp"}).encode())
seen["pyarrow_netql"] = records(client.do_get(ticket, options).read_pandas())
ticket = flight.Ticket(json.dumps({"sql": "SELECT count(*) AS n FROM bgp"}).encode())
seen["pyarrow_sql"] = records(client.do_get(ticket, options).read_pandas())

print(json.dumps(seen))
