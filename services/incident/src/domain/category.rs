//! The trust-wide categories of online-safety concern (DESIGN §4). Schools may label them their own
//! way; the ids are part of the API and the event contract.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Cyberbullying,
    /// Sharing nudes and semi-nudes ("sexting").
    NudeImageSharing,
    /// Including grooming and child criminal exploitation.
    OnlineSexualAbuse,
    IndecentImagesOfChildren,
    RadicalisationExtremism,
    OnlineHate,
    /// An allegation about a member of staff: goes to the LADO.
    StaffOnlineConduct,
    OffensiveCommunication,
    InappropriateContent,
    /// Including mobile phones.
    DeviceMisuse,
    DataSecurity,
    SocialMediaMisuse,
    Other,
}

impl Category {
    pub const ALL: [Category; 13] = [
        Category::Cyberbullying,
        Category::NudeImageSharing,
        Category::OnlineSexualAbuse,
        Category::IndecentImagesOfChildren,
        Category::RadicalisationExtremism,
        Category::OnlineHate,
        Category::StaffOnlineConduct,
        Category::OffensiveCommunication,
        Category::InappropriateContent,
        Category::DeviceMisuse,
        Category::DataSecurity,
        Category::SocialMediaMisuse,
        Category::Other,
    ];
}
