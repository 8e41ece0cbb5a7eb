//! The scenario payload shared by the benchmarks: a 1C order document, its contract as an
//! OpenAPI 3.0 document (what Integra validates against), and the same contract written
//! directly as JSON Schema (what the raw `jsonschema` baseline validates against).

use serde_json::{Value, json};

/// The `uuid` format as OpenAPI means it (8-4-4-4-12 hexadecimal digits), for the raw
/// validator: it must check what Integra checks for the comparison to be fair.
pub fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// The contract of an order, as an OpenAPI 3.0 document with component `Order`.
pub const OPENAPI: &str = r##"
openapi: 3.0.3
info: {title: orders, version: "1"}
paths: {}
components:
  schemas:
    Order:
      type: object
      additionalProperties: false
      required: [Ссылка, Номер, Дата, Контрагент, Статус, Товары]
      properties:
        Ссылка: {type: string, format: uuid}
        Номер: {type: string, pattern: '^[А-Я]{2}-\d{6}$'}
        Дата: {type: string, format: date-time}
        Контрагент: {$ref: '#/components/schemas/Counterparty'}
        Статус: {type: string, enum: [Новый, Согласован, Отгружен]}
        Комментарий: {type: string, nullable: true}
        Товары: {type: array, minItems: 1, items: {$ref: '#/components/schemas/Line'}}
    Counterparty:
      type: object
      required: [Ссылка, ИНН]
      properties:
        Ссылка: {type: string, format: uuid}
        ИНН: {type: string, pattern: '^\d{10}(\d{2})?$'}
        Наименование: {type: string}
    Line:
      type: object
      required: [НомерСтроки, Номенклатура, Количество, Цена]
      properties:
        НомерСтроки: {type: integer, minimum: 1}
        Номенклатура: {type: string, format: uuid}
        Количество: {type: number, minimum: 0, exclusiveMinimum: true}
        Цена: {type: number, minimum: 0}
        СтавкаНДС: {type: string, enum: [БезНДС, НДС10, НДС20]}
"##;

/// The same contract written directly as JSON Schema draft 7.
pub fn raw_schema() -> Value {
    json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "object", "additionalProperties": false,
        "required": ["Ссылка", "Номер", "Дата", "Контрагент", "Статус", "Товары"],
        "properties": {
            "Ссылка": {"type": "string", "format": "uuid"},
            "Номер": {"type": "string", "pattern": "^[А-Я]{2}-\\d{6}$"},
            "Дата": {"type": "string", "format": "date-time"},
            "Контрагент": {"$ref": "#/definitions/Counterparty"},
            "Статус": {"type": "string", "enum": ["Новый", "Согласован", "Отгружен"]},
            "Комментарий": {"type": ["string", "null"]},
            "Товары": {"type": "array", "minItems": 1, "items": {"$ref": "#/definitions/Line"}}
        },
        "definitions": {
            "Counterparty": {"type": "object", "required": ["Ссылка", "ИНН"], "properties": {
                "Ссылка": {"type": "string", "format": "uuid"},
                "ИНН": {"type": "string", "pattern": "^\\d{10}(\\d{2})?$"},
                "Наименование": {"type": "string"}}},
            "Line": {"type": "object", "required": ["НомерСтроки", "Номенклатура", "Количество", "Цена"], "properties": {
                "НомерСтроки": {"type": "integer", "minimum": 1},
                "Номенклатура": {"type": "string", "format": "uuid"},
                "Количество": {"type": "number", "exclusiveMinimum": 0},
                "Цена": {"type": "number", "minimum": 0},
                "СтавкаНДС": {"type": "string", "enum": ["БезНДС", "НДС10", "НДС20"]}}}
        }
    })
}

/// A 1C-style order with `lines` tabular rows.
pub fn order(lines: usize) -> String {
    let rows: Vec<Value> = (1..=lines)
        .map(|n| {
            json!({"НомерСтроки": n, "Номенклатура": format!("8c3d5e4a-9c1d-11ee-8f4a-{n:012}"),
                   "Количество": 2, "Цена": 499.9, "СтавкаНДС": "НДС20"})
        })
        .collect();
    json!({
        "Ссылка": "6f1b3c2e-9c1d-11ee-8f4a-0050569f2f4d", "Номер": "ЗК-000123",
        "Дата": "2026-11-22T07:15:00Z",
        "Контрагент": {"Ссылка": "7a2b4d3f-9c1d-11ee-8f4a-0050569f2f4d", "ИНН": "7707083893",
                       "Наименование": "ООО «Ромашка»"},
        "Статус": "Согласован", "Комментарий": null, "Товары": rows
    })
    .to_string()
}
