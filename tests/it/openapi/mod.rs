//! OpenAPI 3.0 validation: keyword cases from data files, whole documents, and validation
//! where messages are formed and received.

mod cases;
mod documents;
mod engine;
mod external;
