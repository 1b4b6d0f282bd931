//! The one translation mechanism of the UI. French is the default, as in the procedure.
//!
//! Every text is a `Msg` with its French and English wording side by side; the compiler checks
//! that no language misses one. Messages with values (`{n}`) are filled with [`Msg::fill`].
use crate::domain::Role;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    Fr,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Fr => "fr",
            Lang::En => "en",
        }
    }

    pub fn parse(s: &str) -> Option<Lang> {
        match s {
            "fr" => Some(Lang::Fr),
            "en" => Some(Lang::En),
            _ => None,
        }
    }
}

macro_rules! messages {
    ($($key:ident => $fr:expr, $en:expr;)*) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
        pub enum Msg { $($key),* }

        impl Msg {
            pub fn text(self, lang: Lang) -> &'static str {
                match (self, lang) {
                    $((Msg::$key, Lang::Fr) => $fr, (Msg::$key, Lang::En) => $en,)*
                }
            }
        }
    };
}

messages! {
    AppName => "Rollback Desk", "Rollback Desk";
    SkipToContent => "Aller au contenu", "Skip to content";
    NavDashboard => "Tableau de bord", "Dashboard";
    NavIncidents => "Incidents", "Incidents";
    NavHistory => "Historique", "History";
    NavPostMortems => "Post-mortems", "Post-mortems";
    NavContacts => "Contacts", "Contacts";
    NavAdmin => "Administration", "Admin";
    MainNavigation => "Navigation principale", "Main navigation";
    SignedInAs => "Connecté en tant que", "Signed in as";
    SignOut => "Se déconnecter", "Sign out";
    Language => "Langue", "Language";
    SwitchLanguage => "Changer", "Switch";
    SignInTitle => "Connexion", "Sign in";
    SignInIntro => "Coordination des retours arrière de déploiement.", "Coordinating deployment rollbacks.";
    Email => "Adresse e-mail", "Email address";
    Password => "Mot de passe", "Password";
    SignInButton => "Se connecter", "Sign in";
    SignedOut => "Vous êtes déconnecté.", "You are signed out.";
    BadCredentials => "Adresse e-mail ou mot de passe incorrect.", "Wrong email address or password.";
    SignInWait => "Trop de tentatives échouées pour ce compte : patientez {n} secondes avant de réessayer.", "Too many failed sign-ins for this account: wait {n} seconds before trying again.";
    SignInLocked => "Trop de tentatives échouées : ce compte est bloqué pendant encore {n} minutes. Contactez un administrateur si besoin.", "Too many failed sign-ins: this account is locked for {n} more minutes. Ask an administrator if needed.";
    EmailRequired => "Saisissez une adresse e-mail valide (nom@domaine.fr).", "Enter a valid email address (name@domain.com).";
    PasswordRequired => "Saisissez votre mot de passe.", "Enter your password.";
    SessionEnded => "Votre session a pris fin : reconnectez-vous.", "Your session has ended: please sign in again.";
    DashboardTitle => "Tableau de bord", "Dashboard";
    Welcome => "Bienvenue, {n}.", "Welcome, {n}.";
    YourRoles => "Vos rôles", "Your roles";
    MayDecide => "Vous faites partie des responsables autorisés à déclencher un rollback (§2.2).", "You are one of the people allowed to trigger a rollback (§2.2).";
    MayNotDecide => "Seuls le responsable technique, le chef de projet, l'administrateur système et le développeur senior de garde peuvent déclencher un rollback (§2.2).", "Only the tech lead, the project manager, the system administrator and the senior developer on call may trigger a rollback (§2.2).";
    DecisionRule => "Délai de décision : 30 minutes au maximum après la détection du problème.", "Decision deadline: at most 30 minutes after the problem is detected.";
    NothingYet => "Rien n'est encore enregistré ici.", "Nothing is recorded here yet.";
    IncidentsTitle => "Incidents", "Incidents";
    HistoryTitle => "Historique des versions et des rollbacks", "Version and rollback history";
    PostMortemsTitle => "Post-mortems", "Post-mortems";
    ContactsTitle => "Contacts d'urgence", "Emergency contacts";
    AdminUsersTitle => "Comptes utilisateurs", "User accounts";
    AddUser => "Ajouter un compte", "Add an account";
    Name => "Nom", "Name";
    Roles => "Rôles", "Roles";
    Status => "État", "Status";
    Active => "Actif", "Active";
    Inactive => "Désactivé", "Deactivated";
    Actions => "Actions", "Actions";
    SaveRoles => "Enregistrer les rôles", "Save roles";
    Deactivate => "Désactiver", "Deactivate";
    Reactivate => "Réactiver", "Reactivate";
    InitialPassword => "Mot de passe initial (12 caractères au moins)", "Initial password (at least 12 characters)";
    CreateAccount => "Créer le compte", "Create account";
    NameRequired => "Saisissez un nom (100 caractères au plus).", "Enter a name (at most 100 characters).";
    PasswordTooShort => "Le mot de passe doit compter de 12 à 256 caractères.", "The password must have 12 to 256 characters.";
    RolesRequired => "Choisissez au moins un rôle.", "Choose at least one role.";
    EmailTaken => "Un compte existe déjà avec cette adresse.", "An account with this address already exists.";
    AccountCreated => "Compte créé pour {n}.", "Account created for {n}.";
    RolesSaved => "Rôles de {n} enregistrés.", "Roles of {n} saved.";
    AccountDeactivated => "Compte de {n} désactivé : ses sessions sont terminées.", "Account of {n} deactivated: their sessions have ended.";
    AccountReactivated => "Compte de {n} réactivé.", "Account of {n} reactivated.";
    CannotLockYourselfOut => "Vous ne pouvez ni désactiver votre propre compte ni retirer votre propre rôle d'administrateur.", "You can't deactivate your own account or remove your own admin role.";
    UnknownUser => "Ce compte n'existe pas.", "This account does not exist.";
    Forbidden => "Vous n'avez pas le droit de faire cela.", "You are not allowed to do this.";
    InternalError => "Une erreur est survenue : rien n'a été enregistré. Réessayez.", "Something went wrong: nothing was saved. Please try again.";
    FormRejected => "Ce formulaire a expiré ou vient d'un autre site : rechargez la page et réessayez.", "This form has expired or came from another site: reload the page and try again.";
    NotFound => "Page introuvable.", "Page not found.";
    BackToDashboard => "Retour au tableau de bord", "Back to the dashboard";
    RoleTechLead => "Responsable technique", "Tech lead";
    RoleProjectManager => "Chef de projet", "Project manager";
    RoleSysadmin => "Administrateur système", "System administrator";
    RoleSeniorDevOncall => "Développeur senior de garde", "Senior developer on call";
    RoleDeveloper => "Développeur", "Developer";
    RoleQa => "Testeur QA", "QA tester";
    RoleDba => "DBA", "DBA";
    RoleViewer => "Lecteur", "Viewer";
    RoleAdmin => "Administrateur des comptes", "Account administrator";
}

impl Msg {
    /// The text with `{n}` replaced by `value`.
    pub fn fill(self, lang: Lang, value: impl std::fmt::Display) -> String {
        self.text(lang).replace("{n}", &value.to_string())
    }

    pub fn role(role: Role) -> Msg {
        match role {
            Role::TechLead => Msg::RoleTechLead,
            Role::ProjectManager => Msg::RoleProjectManager,
            Role::Sysadmin => Msg::RoleSysadmin,
            Role::SeniorDevOncall => Msg::RoleSeniorDevOncall,
            Role::Developer => Msg::RoleDeveloper,
            Role::Qa => Msg::RoleQa,
            Role::Dba => Msg::RoleDba,
            Role::Viewer => Msg::RoleViewer,
            Role::Admin => Msg::RoleAdmin,
        }
    }
}

/// A message to show on the next page, in the reader's language when it is rendered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Text {
    pub msg: Msg,
    pub value: Option<String>,
}

impl Text {
    pub fn plain(msg: Msg) -> Text {
        Text { msg, value: None }
    }

    pub fn with(msg: Msg, value: impl std::fmt::Display) -> Text {
        Text {
            msg,
            value: Some(value.to_string()),
        }
    }

    pub fn render(&self, lang: Lang) -> String {
        match &self.value {
            Some(v) => self.msg.fill(lang, v),
            None => self.msg.text(lang).to_owned(),
        }
    }
}

impl From<Msg> for Text {
    fn from(msg: Msg) -> Text {
        Text::plain(msg)
    }
}
