//! End-to-end tests: one binary, a module per area (see docs/ARCHITECTURE.md).

mod adversarial;
mod bad_input;
mod camera;
mod catalogue;
mod churn;
mod crash;
mod http;
mod lifecycle;
mod measures;
mod models;
mod motion;
mod people;
mod pipeline;
mod pose;
mod quality;
mod scenes;
mod search_quality;
mod security;
mod service;
mod sounds;
mod storage;
mod support;
mod ui;
mod visual;
mod voices;
mod webdriver;
