//! `/osp/api/users` and `/osp/api/login`, translated to GraphQL.

use std::net::SocketAddr;

use async_graphql::{Request, Variables};
use axum::{
    Extension,
    extract::{ConnectInfo, Path, Query, State, rejection::QueryRejection},
    http::{HeaderMap, header},
    response::Response,
};
use chrono::DateTime;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{envelope::from_graphql, input::JsonObject};
use crate::{
    error::AppError,
    graphql::{ClientAddr, Executor},
};

const CREATE_USER: &str =
    "mutation CreateUser($input: CreateUserInput!) { createUser(input: $input) { name } }";
const LIST_USERS: &str =
    "query Users($name: String) { users(name: $name) { name email createTime updateTime } }";
const UPDATE_USER: &str = "mutation UpdateUser($name: String!, $input: UpdateUserInput!) { updateUser(name: $name, input: $input) { name } }";
const LOGIN: &str = "mutation Login($name: String!, $password: String!) { login(name: $name, password: $password) { token } }";

fn request(document: &str, variables: Value) -> Request {
    Request::new(document).variables(Variables::from_json(variables))
}

/// REST spells roles in lower case; GraphQL enum values are upper case.
fn role(body: &JsonObject) -> Result<Option<&'static str>, AppError> {
    match body.optional("role")?.as_deref() {
        None => Ok(None),
        Some("admin" | "ADMIN") => Ok(Some("ADMIN")),
        Some("user" | "USER") => Ok(Some("USER")),
        Some(_) => Err(AppError::invalid("role", "must be admin or user")),
    }
}

/// `POST /osp/api/users`: `{name, email, password, role?}` (admins only).
pub async fn create(
    State(executor): State<Executor>,
    headers: HeaderMap,
    body: Result<JsonObject, AppError>,
) -> Result<Response, AppError> {
    let body = body?;
    body.only(&["name", "email", "password", "role"])?;
    let input = json!({
        "name": body.required("name")?,
        "email": body.required("email")?,
        "password": body.required("password")?,
        "role": role(&body)?,
    });
    let response = executor
        .execute(
            headers.get(header::AUTHORIZATION),
            request(CREATE_USER, json!({ "input": input })),
        )
        .await;
    Ok(from_graphql(response, "createUser", |_| Ok(Value::Null)))
}

/// Query string of `GET /osp/api/users`.
#[derive(Debug, Deserialize)]
pub struct UserFilter {
    name: Option<String>,
}

/// `GET /osp/api/users?name=`: users whose name contains `name`.
pub async fn list(
    State(executor): State<Executor>,
    headers: HeaderMap,
    filter: Result<Query<UserFilter>, QueryRejection>,
) -> Result<Response, AppError> {
    let Query(filter) = filter.map_err(|e| AppError::invalid("query", e.body_text()))?;
    let response = executor
        .execute(
            headers.get(header::AUTHORIZATION),
            request(LIST_USERS, json!({ "name": filter.name })),
        )
        .await;
    Ok(from_graphql(response, "users", |users| {
        let Value::Array(users) = users else {
            return Ok(Value::Array(Vec::new()));
        };
        users
            .into_iter()
            .map(|user| {
                Ok(json!({
                    "name": user["name"],
                    "email": user["email"],
                    "create_time": rest_time(&user["createTime"])?,
                    "update_time": rest_time(&user["updateTime"])?,
                }))
            })
            .collect::<Result<Vec<_>, AppError>>()
            .map(Value::Array)
    }))
}

/// `PUT /osp/api/users/{name}`: `{email?, password?, role?}`.
pub async fn update(
    State(executor): State<Executor>,
    headers: HeaderMap,
    Path(name): Path<String>,
    body: Result<JsonObject, AppError>,
) -> Result<Response, AppError> {
    let body = body?;
    body.only(&["email", "password", "role"])?;
    let input = json!({
        "email": body.optional("email")?,
        "password": body.optional("password")?,
        "role": role(&body)?,
    });
    if input
        .as_object()
        .is_some_and(|o| o.values().all(Value::is_null))
    {
        return Err(AppError::invalid(
            "body",
            "nothing to change: give email, password or role",
        ));
    }
    let response = executor
        .execute(
            headers.get(header::AUTHORIZATION),
            request(UPDATE_USER, json!({ "name": name, "input": input })),
        )
        .await;
    Ok(from_graphql(response, "updateUser", |_| Ok(Value::Null)))
}

/// `POST /osp/api/login`: `{name, password}` → `{token}`.
pub async fn login(
    State(executor): State<Executor>,
    connect_info: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    body: Result<JsonObject, AppError>,
) -> Result<Response, AppError> {
    let body = body?;
    body.only(&["name", "password"])?;
    let variables = json!({
        "name": body.required("name")?,
        "password": body.required("password")?,
    });
    let client = connect_info.map(|Extension(ConnectInfo(addr))| ClientAddr(addr.ip()));
    let response = executor
        .execute_from(
            client,
            headers.get(header::AUTHORIZATION),
            request(LOGIN, variables),
        )
        .await;
    Ok(from_graphql(response, "login", Ok))
}

/// User times in REST are UTC `YYYY-MM-DD HH:MM:SS`; GraphQL gives RFC 3339.
fn rest_time(value: &Value) -> Result<Value, AppError> {
    let text = value.as_str().unwrap_or_default();
    let parsed = DateTime::parse_from_rfc3339(text)
        .map_err(|e| AppError::internal(anyhow::anyhow!("bad time {text:?} from schema: {e}")))?;
    Ok(Value::String(
        parsed.naive_utc().format("%Y-%m-%d %H:%M:%S").to_string(),
    ))
}
