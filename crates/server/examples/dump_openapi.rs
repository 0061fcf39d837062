//! Prints the API's OpenAPI document, as `GET /api/openapi.json` serves it:
//! `cargo run -p danvan-server --example dump_openapi > openapi.json`.

fn main() {
    print!("{}", danvan_server::routes::openapi_json());
}
