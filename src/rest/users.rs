//! `/osp/api/users` and `/osp/api/login`, translated to GraphQL.

use async_graphql::{Request, Variables};
use axum::{
    extract::{
        Path, Query, State,
        rejection::{PathRejection, QueryRejection},
    },
    response::Response,
};
use chrono::DateTime;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};

use super::{
    envelope::{Envelope, NoData, from_graphql},
    input::{JsonBody, path_error},
    openapi::{CreateUserErrors, ListUsersErrors, LoginErrors, UpdateUserErrors},
};
use crate::{
    auth::{Auth, Role},
    error::AppError,
    graphql::{Executor, RequestMeta},
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

/// The role as a GraphQL variable value (the enum's name, `ADMIN`/`USER`).
fn role_variable(role: Option<Role>) -> Value {
    role.map_or(Value::Null, |role| {
        async_graphql::InputType::to_value(&role)
            .into_json()
            .unwrap_or_default()
    })
}

/// Body of `POST /osp/api/users`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUserRequest {
    /// 1-64 letters, digits, `.`, `_` or `-`, starting with a letter or digit;
    /// unique regardless of case.
    #[schema(pattern = "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$", example = "alice")]
    pub name: String,
    /// E-mail address.
    #[schema(format = Email, max_length = 254, example = "alice@example.com")]
    pub email: String,
    /// 8 to 1024 characters.
    #[schema(format = Password, min_length = 8, max_length = 1024, example = "alice-password")]
    pub password: String,
    /// Role of the new user (default `user`).
    #[serde(default)]
    pub role: Option<Role>,
}

/// `POST /osp/api/users`: creates a user (admins only).
#[utoipa::path(
    post,
    path = "/users",
    tag = "users",
    operation_id = "createUser",
    request_body = CreateUserRequest,
    responses(
        (status = 200, description = "The user was created.", body = Envelope<NoData>),
        CreateUserErrors,
    ),
)]
pub async fn create(
    State(executor): State<Executor>,
    meta: RequestMeta,
    auth: Auth,
    body: Result<JsonBody<CreateUserRequest>, AppError>,
) -> Result<Response, AppError> {
    let JsonBody(body) = body?;
    let input = json!({
        "name": body.name,
        "email": body.email,
        "password": body.password,
        "role": role_variable(body.role),
    });
    let response = executor
        .execute(meta, auth, request(CREATE_USER, json!({ "input": input })))
        .await;
    Ok(from_graphql(response, "createUser", |_: Value| Ok(NoData)))
}

/// Query string of `GET /osp/api/users`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserFilter {
    /// Only users whose name contains this (regardless of case).
    name: Option<String>,
}

/// A user, as REST lists it.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserRecord {
    /// Name.
    #[schema(example = "alice")]
    pub name: String,
    /// E-mail address.
    #[schema(example = "alice@example.com")]
    pub email: String,
    /// When the user was created, UTC `YYYY-MM-DD HH:MM:SS`.
    #[schema(
        pattern = "^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$",
        example = "2026-11-27 04:00:00"
    )]
    pub create_time: String,
    /// When the user last changed, UTC `YYYY-MM-DD HH:MM:SS`.
    #[schema(
        pattern = "^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$",
        example = "2026-11-27 04:00:00"
    )]
    pub update_time: String,
}

/// A user as the GraphQL document asks for it.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GqlUser {
    name: String,
    email: String,
    create_time: String,
    update_time: String,
}

/// `GET /osp/api/users?name=`: users whose name contains `name`.
#[utoipa::path(
    get,
    path = "/users",
    tag = "users",
    operation_id = "listUsers",
    params(UserFilter),
    responses(
        (status = 200, description = "The matching users, by name.", body = Envelope<Vec<UserRecord>>),
        ListUsersErrors,
    ),
)]
pub async fn list(
    State(executor): State<Executor>,
    meta: RequestMeta,
    auth: Auth,
    filter: Result<Query<UserFilter>, QueryRejection>,
) -> Result<Response, AppError> {
    let Query(filter) = filter.map_err(|e| AppError::invalid("query", e.body_text()))?;
    let response = executor
        .execute(
            meta,
            auth,
            request(LIST_USERS, json!({ "name": filter.name })),
        )
        .await;
    Ok(from_graphql(response, "users", |users: Vec<GqlUser>| {
        users
            .into_iter()
            .map(|user| {
                Ok(UserRecord {
                    name: user.name,
                    email: user.email,
                    create_time: rest_time(&user.create_time)?,
                    update_time: rest_time(&user.update_time)?,
                })
            })
            .collect::<Result<Vec<_>, AppError>>()
    }))
}

/// Body of `PUT /osp/api/users/{name}`: what to change (at least one field).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUserRequest {
    /// New e-mail address.
    #[serde(default)]
    #[schema(format = Email, max_length = 254, example = "alice@new.example.com")]
    pub email: Option<String>,
    /// New password, 8 to 1024 characters; signs out the user's earlier tokens.
    #[schema(format = Password, min_length = 8, max_length = 1024)]
    #[serde(default)]
    pub password: Option<String>,
    /// New role (admins only; the last admin cannot be demoted).
    #[serde(default)]
    pub role: Option<Role>,
    /// Your current password: needed with `password` to change your own
    /// password when you signed in longer ago than `OSP_RECENT_SIGN_IN`
    /// (5 minutes by default); a wrong one counts as a failed sign-in.
    #[schema(format = Password, max_length = 1024)]
    #[serde(default)]
    pub current_password: Option<String>,
}

impl UpdateUserRequest {
    /// The fields that change something, each of them optional; at least one
    /// must be given.
    pub const FIELDS: [&str; 3] = ["email", "password", "role"];

    /// Refuses a request that changes nothing.
    fn check(self) -> Result<Self, AppError> {
        if self.email.is_none() && self.password.is_none() && self.role.is_none() {
            return Err(AppError::invalid(
                "body",
                "nothing to change: give email, password or role",
            ));
        }
        Ok(self)
    }
}

/// `PUT /osp/api/users/{name}`: changes a user (admins: anyone; users: themselves).
#[utoipa::path(
    put,
    path = "/users/{name}",
    tag = "users",
    operation_id = "updateUser",
    params(("name" = String, Path, description = "The user's name (regardless of case).",
        example = "alice", pattern = "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")),
    request_body = UpdateUserRequest,
    responses(
        (status = 200, description = "The user was changed.", body = Envelope<NoData>),
        UpdateUserErrors,
    ),
)]
pub async fn update(
    State(executor): State<Executor>,
    meta: RequestMeta,
    auth: Auth,
    path: Result<Path<String>, PathRejection>,
    body: Result<JsonBody<UpdateUserRequest>, AppError>,
) -> Result<Response, AppError> {
    let Path(name) = path.map_err(path_error)?;
    let JsonBody(body) = body?;
    let body = body.check()?;
    let input = json!({
        "email": body.email,
        "password": body.password,
        "role": role_variable(body.role),
        "currentPassword": body.current_password,
    });
    let response = executor
        .execute(
            meta,
            auth,
            request(UPDATE_USER, json!({ "name": name, "input": input })),
        )
        .await;
    Ok(from_graphql(response, "updateUser", |_: Value| Ok(NoData)))
}

/// Body of `POST /osp/api/login`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// User name (regardless of case).
    #[schema(example = "admin")]
    pub name: String,
    /// Password (at most 1024 characters).
    #[schema(format = Password, max_length = 1024)]
    pub password: String,
}

/// A signed-in session.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct LoginData {
    /// Bearer token for the `Authorization` header; it expires after the
    /// configured lifetime (`OSP_TOKEN_TTL`).
    pub token: String,
}

/// `POST /osp/api/login`: `{name, password}` → `{token}`.
#[utoipa::path(
    post,
    path = "/login",
    tag = "users",
    operation_id = "login",
    security(()),
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in.", body = Envelope<LoginData>),
        LoginErrors,
    ),
)]
pub async fn login(
    State(executor): State<Executor>,
    meta: RequestMeta,
    auth: Auth,
    body: Result<JsonBody<LoginRequest>, AppError>,
) -> Result<Response, AppError> {
    let JsonBody(body) = body?;
    let variables = json!({ "name": body.name, "password": body.password });
    let response = executor
        .execute(meta, auth, request(LOGIN, variables))
        .await;
    Ok(from_graphql(response, "login", |login: LoginData| {
        Ok(login)
    }))
}

/// User times in REST are UTC `YYYY-MM-DD HH:MM:SS`; GraphQL gives RFC 3339.
fn rest_time(text: &str) -> Result<String, AppError> {
    let parsed = DateTime::parse_from_rfc3339(text)
        .map_err(|e| AppError::internal(anyhow::anyhow!("bad time {text:?} from schema: {e}")))?;
    Ok(parsed.naive_utc().format("%Y-%m-%d %H:%M:%S").to_string())
}
