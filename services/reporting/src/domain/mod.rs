//! Reporting's rules, pure: who a figure may count concerns for, and how figures are shown to whom.

pub mod audience;
