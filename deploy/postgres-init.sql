-- Each service owns its own database (DESIGN §1).
CREATE DATABASE trustsafe_incident;
CREATE DATABASE trustsafe_filtering;
CREATE DATABASE trustsafe_aup;
CREATE DATABASE trustsafe_reporting;
