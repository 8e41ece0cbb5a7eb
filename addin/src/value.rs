//! Values as the add-in's methods see them: what a 1C argument or result can be, without
//! the `tVariant` it travels in (that conversion is `abi::variant`'s).

/// A 1C value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// `Неопределено` (an omitted argument, or no result).
    Empty,
    /// `Булево`.
    Bool(bool),
    /// `Число`.
    Number(f64),
    /// `Строка`.
    Str(String),
    /// A `Строка` that is not valid text (an unpaired UTF-16 surrogate, bytes that are not
    /// UTF-8), with what is wrong in words. It is refused, not repaired: repaired, two
    /// different strings would become one.
    Malformed(String),
    /// `ДвоичныеДанные`.
    Blob(Vec<u8>),
    /// `Дата`, as it arrives (Integra takes no dates: they travel as ISO text).
    Date,
    /// A value of a type 1C does not map (an array, a reference), by its type code.
    Unsupported(u16),
}

impl Value {
    /// The 1C type name, for messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Empty => "Undefined",
            Value::Bool(_) => "Boolean",
            Value::Number(_) => "Number",
            Value::Str(_) | Value::Malformed(_) => "String",
            Value::Blob(_) => "BinaryData",
            Value::Date => "Date",
            Value::Unsupported(_) => "a value of an unsupported type",
        }
    }
}
