//! Whole documents: a Petstore-like API (JSON) and a 1C-style order exchange (YAML).

use integra::Violation;
use serde_json::{Value, json};

use crate::support::TestEngine;

fn petstore() -> Value {
    json!({
        "openapi": "3.0.3",
        "info": {"title": "Petstore", "version": "1.0.0"},
        "paths": {
            "/pets": {
                "get": {"parameters": [{"name": "limit", "in": "query", "schema": {"type": "integer", "format": "int32"}}],
                        "responses": {"200": {"description": "pets", "content": {"application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/Pet"}}}}}}},
                "post": {"requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Pet"}}}},
                         "responses": {"201": {"description": "created"}, "default": {"description": "error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}}}
            },
            "/pets/{petId}": {"get": {"parameters": [{"name": "petId", "in": "path", "required": true, "schema": {"type": "integer", "format": "int64"}}],
                                      "responses": {"200": {"description": "a pet", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Pet"}}}}}}}
        },
        "components": {"schemas": {
            "Pet": {
                "type": "object",
                "required": ["id", "name", "petType"],
                "properties": {
                    "id": {"type": "integer", "format": "int64", "readOnly": true},
                    "name": {"type": "string", "minLength": 1},
                    "tag": {"type": "string", "nullable": true},
                    "petType": {"type": "string"},
                    "owner": {"$ref": "#/components/schemas/Owner", "nullable": true}
                },
                "discriminator": {"propertyName": "petType", "mapping": {"cat": "Cat", "dog": "#/components/schemas/Dog"}}
            },
            "Cat": {"allOf": [{"$ref": "#/components/schemas/Pet"}, {"type": "object", "required": ["huntingSkill"], "properties": {
                "huntingSkill": {"type": "string", "enum": ["clueless", "lazy", "adventurous", "aggressive"]}}}]},
            "Dog": {"allOf": [{"$ref": "#/components/schemas/Pet"}, {"type": "object", "required": ["packSize"], "properties": {
                "packSize": {"type": "integer", "format": "int32", "minimum": 0}}}]},
            "Owner": {"type": "object", "required": ["email"], "additionalProperties": false, "properties": {
                "email": {"type": "string", "format": "email"},
                "password": {"type": "string", "writeOnly": true}}},
            "Error": {"type": "object", "required": ["code", "message"], "properties": {
                "code": {"type": "integer", "format": "int32"}, "message": {"type": "string"}}}
        }}
    })
}

const ORDER_YAML: &str = r##"
openapi: 3.0.3
info:
  title: Обмен заказами с 1С
  version: "1.0"
paths:
  /orders:
    post:
      requestBody:
        content:
          application/json:
            schema:
              $ref: '#/components/schemas/Order'
      responses:
        200:
          description: Заказ принят
components:
  schemas:
    Ref:
      type: string
      format: uuid
    Order:
      type: object
      additionalProperties: false
      required: [Ссылка, Номер, Дата, Контрагент, Статус, Товары]
      properties:
        Ссылка: {$ref: '#/components/schemas/Ref'}
        Номер: {type: string, pattern: '^[А-Я]{2}-\d{6}$'}
        Дата: {type: string, format: date-time}
        ДатаОтгрузки: {type: string, format: date, nullable: true}
        Контрагент: {$ref: '#/components/schemas/Counterparty'}
        Статус: {type: string, enum: [Новый, Согласован, Отгружен]}
        Сумма: {type: number, minimum: 0, multipleOf: 0.01}
        Комментарий: {type: string, maxLength: 1024, nullable: true}
        Товары:
          type: array
          minItems: 1
          items: {$ref: '#/components/schemas/Line'}
    Counterparty:
      type: object
      required: [Ссылка, ИНН]
      properties:
        Ссылка: {$ref: '#/components/schemas/Ref'}
        ИНН: {type: string, pattern: '^\d{10}(\d{2})?$'}
        КПП: {type: string, pattern: '^\d{9}$', nullable: true}
        Наименование: {type: string}
    Line:
      type: object
      required: [НомерСтроки, Номенклатура, Количество, Цена]
      properties:
        НомерСтроки: {type: integer, format: int32, minimum: 1}
        Номенклатура: {$ref: '#/components/schemas/Ref'}
        Количество: {type: number, minimum: 0, exclusiveMinimum: true}
        Цена: {type: number, minimum: 0}
        СтавкаНДС: {type: string, enum: [БезНДС, НДС10, НДС20]}
"##;

fn engine() -> TestEngine {
    TestEngine::new(&json!({
        "schemas": [{"code": "petstore", "document": petstore()},
                    {"code": "orders", "document": ORDER_YAML}],
        "flows": [
            {"code": "PETS_OUT", "direction": "outgoing", "schema": {"schema": "petstore", "component": "Pet"}},
            {"code": "PETS_IN", "direction": "incoming", "schema": {"schema": "petstore", "component": "Pet"}},
            {"code": "ORDERS_IN", "direction": "incoming", "schema": {"schema": "orders", "component": "Order"}}
        ]
    }))
}

fn lines(violations: &[Violation]) -> Vec<String> {
    violations.iter().map(ToString::to_string).collect()
}

#[test]
fn petstore_pets_by_direction_and_kind() {
    let t = engine();
    let cat = json!({"id": 7, "name": "Tom", "petType": "cat", "huntingSkill": "lazy", "tag": null,
                     "owner": {"email": "owner@example.com"}});
    assert!(
        t.engine
            .validate_for_flow("PETS_OUT", &cat.to_string())
            .unwrap()
            .is_empty()
    );
    assert!(
        t.engine
            .validate("petstore", "Cat", &cat.to_string())
            .unwrap()
            .is_empty()
    );

    let bad_dog = json!({"id": 8, "name": "", "petType": "dog", "packSize": -1,
                         "owner": {"email": "owner@example.com", "password": "secret", "phone": "1"}});
    let v = t
        .engine
        .validate_for_flow("PETS_OUT", &bad_dog.to_string())
        .unwrap();
    assert_eq!(
        lines(&v),
        [
            "/name: \"\" is shorter than 1 character",
            "/owner: Additional properties are not allowed ('phone' was unexpected)",
            "/owner/password: is write-only: it must not appear in an outgoing message",
            "/packSize: -1 is less than the minimum of 0",
        ]
    );
    let size = v.iter().find(|x| x.instance_path == "/packSize").unwrap();
    assert_eq!(size.keyword, "minimum");
    assert_eq!(
        size.schema_path,
        "/components/schemas/Dog/allOf/1/properties/packSize/minimum"
    );

    // A request (incoming) must not carry the read-only id, and need not.
    let new_dog = json!({"name": "Rex", "petType": "dog", "packSize": 2});
    assert!(
        t.engine
            .validate_for_flow("PETS_IN", &new_dog.to_string())
            .unwrap()
            .is_empty()
    );
    let with_id = json!({"id": 9, "name": "Rex", "petType": "dog", "packSize": 2});
    assert_eq!(
        lines(
            &t.engine
                .validate_for_flow("PETS_IN", &with_id.to_string())
                .unwrap()
        ),
        ["/id: is read-only: it must not appear in an incoming message"]
    );
    let fish = json!({"id": 1, "name": "Nemo", "petType": "fish"});
    assert_eq!(
        lines(
            &t.engine
                .validate_for_flow("PETS_OUT", &fish.to_string())
                .unwrap()
        ),
        ["/petType: \"fish\" is not one of \"cat\", \"dog\" or 2 other candidates"]
    );
}

fn order() -> Value {
    json!({
        "Ссылка": "6f1b3c2e-9c1d-11ee-8f4a-0050569f2f4d",
        "Номер": "ЗК-000123",
        "Дата": "2026-11-22T07:15:00Z",
        "ДатаОтгрузки": null,
        "Контрагент": {"Ссылка": "7a2b4d3f-9c1d-11ee-8f4a-0050569f2f4d", "ИНН": "7707083893", "КПП": "773601001",
                       "Наименование": "ООО «Ромашка»"},
        "Статус": "Согласован",
        "Сумма": 1530.50,
        "Товары": [
            {"НомерСтроки": 1, "Номенклатура": "8c3d5e4a-9c1d-11ee-8f4a-0050569f2f4d", "Количество": 2, "Цена": 500, "СтавкаНДС": "НДС20"},
            {"НомерСтроки": 2, "Номенклатура": "9d4e6f5b-9c1d-11ee-8f4a-0050569f2f4d", "Количество": 0.5, "Цена": 1061, "СтавкаНДС": "БезНДС"}
        ]
    })
}

#[test]
fn a_1c_order_with_tabular_parts() {
    let t = engine();
    assert!(
        t.engine
            .validate_for_flow("ORDERS_IN", &order().to_string())
            .unwrap()
            .is_empty()
    );

    let mut bad = order();
    bad["Номер"] = json!("123");
    bad["Статус"] = json!("Удален");
    bad["Контрагент"]["ИНН"] = json!("77070838");
    bad["Товары"][1]["Количество"] = json!(0);
    bad["Товары"][1]["Номенклатура"] = json!("не ссылка");
    bad["Дата"] = json!("22.11.2026 10:15:00");
    bad["Склад"] = json!("Основной");
    let v = t
        .engine
        .validate_for_flow("ORDERS_IN", &bad.to_string())
        .unwrap();
    assert_eq!(
        lines(&v),
        [
            "/: Additional properties are not allowed ('Склад' was unexpected)",
            "/Дата: \"22.11.2026 10:15:00\" is not a \"date-time\"",
            "/Контрагент/ИНН: \"77070838\" does not match \"^\\d{10}(\\d{2})?$\"",
            "/Номер: \"123\" does not match \"^[А-Я]{2}-\\d{6}$\"",
            "/Статус: \"Удален\" is not one of \"Новый\", \"Согласован\" or \"Отгружен\"",
            "/Товары/1/Количество: 0 is less than or equal to the minimum of 0",
            "/Товары/1/Номенклатура: \"не ссылка\" is not a \"uuid\"",
        ]
    );
    let mut empty = order();
    empty["Товары"] = json!([]);
    assert_eq!(
        lines(
            &t.engine
                .validate_for_flow("ORDERS_IN", &empty.to_string())
                .unwrap()
        ),
        ["/Товары: [] has less than 1 item"]
    );
}

#[test]
fn violations_are_capped() {
    let dir = tempfile::tempdir().unwrap();
    let options = integra::EngineOptions::default().with_max_violations(2);
    let engine = integra::Engine::open(dir.path().join("cap.db"), options).unwrap();
    engine
        .load_config_json(
            &json!({"schemas": [{"code": "orders", "document": ORDER_YAML}]}).to_string(),
        )
        .unwrap();
    let v = engine.validate("orders", "Order", "{}").unwrap();
    assert_eq!(v.len(), 2, "{v:?}");
}
