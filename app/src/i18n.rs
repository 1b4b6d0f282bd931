//! The one translation mechanism of the UI. French is the default, as in the procedure.
//!
//! Every text is a `Msg` with its French and English wording side by side; the compiler checks
//! that no language misses one. Messages with values (`{n}`) are filled with [`Msg::fill`].
use crate::domain::{Criterion, IncidentState, Role, RollbackType, Severity, ValidationStep};
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
    SignInWait => "Trop de tentatives échouées pour ce compte depuis cet appareil : patientez {n} secondes avant de réessayer.", "Too many failed sign-ins for this account from this device: wait {n} seconds before trying again.";
    SignInLocked => "Trop de tentatives échouées depuis cette adresse : ce compte est bloqué pendant encore {n} minutes ici. Connectez-vous depuis un appareil où vous vous êtes déjà connecté, ou demandez à un administrateur de le débloquer (Admin › Comptes).", "Too many failed sign-ins from this address: this account is locked here for {n} more minutes. Sign in from a device you have signed in from before, or ask an administrator to unlock it (Admin › Accounts).";
    SignInAccountClosedToNewDevices => "Ce compte reçoit de nombreuses tentatives échouées depuis plusieurs adresses : il n'accepte pour l'instant que les appareils où vous vous êtes déjà connecté. Utilisez l'un d'eux, ou demandez à un administrateur de le débloquer (Admin › Comptes).", "This account is receiving many failed sign-ins from several addresses: for now it accepts only devices you have signed in from before. Use one, or ask an administrator to unlock it (Admin › Accounts).";
    AlreadySubmitted => "Ce formulaire a déjà été envoyé : rien n'a été refait.", "This form was already submitted: nothing was done again.";
    AlreadySubmittedAt => "Ce formulaire avait déjà été envoyé ({n}) : rien n'a été refait. Voici ce que le premier envoi a fait.", "This form was already submitted ({n}): nothing was done again. Here is what the first submission did.";
    AnotherAdminGrantsDeciderRoles => "Vous ne pouvez pas vous donner un rôle qui décide d'un rollback (§2.2) : un autre administrateur doit le faire.", "You cannot give yourself a role that decides a rollback (§2.2): another administrator must.";
    RunConfigNothingToConfirm => "Aucune modification à confirmer sur cet environnement.", "No change to confirm on this environment.";
    RunConfigSecondPerson => "Vous avez fait cette modification : une deuxième personne doit la confirmer.", "You made this change: a second person must confirm it.";
    RunConfigUnconfirmed => "La cible ou les commandes de cet environnement ont changé et n'ont pas été confirmées par une deuxième personne : aucun plan ne s'y exécute avant (page de l'environnement).", "This environment's target or commands changed and no second person has confirmed it: no plan runs on it until then (environment page).";
    RunConfigConfirmed => "Modification confirmée : les plans peuvent de nouveau s'exécuter sur {n}.", "Change confirmed: plans can run on {n} again.";
    RunConfigSavedPending => "Environnement {n} enregistré. La cible ou les commandes ont changé : une deuxième personne doit confirmer sur la page de l'environnement avant toute exécution.", "Environment {n} saved. The target or commands changed: a second person must confirm on the environment page before anything runs.";
    RunConfigPendingTitle => "Modification à confirmer", "Change to confirm";
    RunConfigPendingBy => "Modifié par {n} — aucun plan ne s'exécute sur cet environnement avant qu'une deuxième personne confirme.", "Changed by {n} — no plan runs on this environment until a second person confirms.";
    RunConfigTargetChanged => "La cible a changé.", "The target changed.";
    RunConfigCommandsChanged => "Commandes changées :", "Commands changed:";
    RunConfigOutside => "Programmes hors de la liste admise :", "Programs outside the allowed list:";
    RunConfigConfirm => "Confirmer la modification", "Confirm the change";
    RunConfigWaitingForOther => "Une autre personne (administrateur ou rôle §2.2) doit confirmer.", "Another person (an administrator or a §2.2 role) must confirm.";
    RunCommandsTitle => "Commandes exécutées", "Commands run";
    AllowedPrograms => "Programmes admis : {n}. Toute autre commande est signalée et, comme tout changement, attend la confirmation d'une deuxième personne.", "Allowed programs: {n}. Any other command is flagged and, like any change, waits for a second person's confirmation.";
    OutsideAllowList => "hors liste", "not allowed";
    ConfirmReadWarning => "Cochez la case pour confirmer que vous avez lu l'avertissement.", "Tick the box to confirm you have read the warning.";
    ConfirmEnvironmentName => "Tapez le nom exact de l'environnement pour confirmer.", "Type the environment's exact name to confirm.";
    ExecuteIrreversibleTitle => "Exécuter : ceci ne peut pas être annulé", "Execute: this cannot be undone";
    ExecuteReadWarning => "J'ai lu l'avertissement ci-dessus : les données écrites depuis la sauvegarde seront perdues.", "I have read the warning above: data written since the backup will be lost.";
    ExecuteReadSystemWarning => "J'ai lu le plan ci-dessus : le serveur sera restauré et ne pourra pas revenir en arrière par cette action.", "I have read the plan above: the server will be restored and this action cannot take it back.";
    ExecuteTypeEnvironment => "Tapez le nom de l'environnement pour confirmer : {n}", "Type the environment's name to confirm: {n}";
    ExecuteStepsOn => "Les {n} étapes ci-dessus s'exécuteront maintenant, dans cet ordre.", "The {n} steps above will run now, in this order.";
    RejectionNeedsReason => "Un rejet a besoin d'un motif : dites ce qui doit changer.", "A rejection needs a reason: say what must change.";
    ConfirmTickRequired => "Cochez la case pour confirmer : cette action ne peut pas être annulée.", "Tick the box to confirm: this action cannot be undone.";
    ConfirmAbort => "Je confirme l'abandon : les étapes déjà faites ne seront pas défaites.", "I confirm the abort: the steps already done will not be undone.";
    ConfirmFinalize => "Je confirme : finaliser fige le post-mortem ; ce qui n'est pas enregistré sur cette page est perdu.", "I confirm: finalizing freezes the post-mortem; whatever is not saved on this page is lost.";
    ConfirmCancel => "Je confirme l'annulation de l'incident.", "I confirm cancelling the incident.";
    ConfirmDeactivate => "Je confirme : ses sessions prennent fin tout de suite.", "I confirm: their sessions end at once.";
    ProfileTitle => "Mon compte", "My account";
    Preferences => "Langue et fuseau horaire", "Language and time zone";
    TimeZone => "Fuseau horaire", "Time zone";
    TimeZoneHelp => "Un nom IANA, ex. Europe/Paris ou America/Montreal : toutes les heures vous sont montrées dans ce fuseau.", "An IANA name, e.g. Europe/Paris or America/Montreal: every time is shown to you in it.";
    UnknownTimeZone => "Fuseau horaire inconnu : un nom IANA est attendu, ex. Europe/Paris.", "Unknown time zone: an IANA name is expected, e.g. Europe/Paris.";
    PreferencesSaved => "Préférences enregistrées.", "Preferences saved.";
    ChangePassword => "Changer mon mot de passe", "Change my password";
    CurrentPassword => "Mot de passe actuel", "Current password";
    NewPasswordLabel => "Nouveau mot de passe (12 caractères au moins)", "New password (at least 12 characters)";
    RepeatPassword => "Nouveau mot de passe, encore", "New password, again";
    PasswordsDiffer => "Les deux saisies diffèrent.", "The two entries differ.";
    CurrentPasswordWrong => "Ce n'est pas votre mot de passe actuel.", "That is not your current password.";
    PasswordChanged => "Mot de passe changé.", "Password changed.";
    ParticipantWrongRole => "Cette personne n'a pas le rôle de ce participant.", "This person does not hold this participant's role.";
    AttentionTitle => "À traiter maintenant", "Needs attention now";
    AttentionNone => "Rien ne demande d'action urgente.", "Nothing needs urgent action.";
    AttentionExecFailed => "Exécution échouée à l'étape {n}", "Execution failed at step {n}";
    AttentionExecInterrupted => "Exécution interrompue à l'étape {n}", "Execution interrupted at step {n}";
    AttentionMonitoringFailed => "Contrôle de surveillance n° {n} en échec", "Monitoring check {n} failed";
    AttentionDecisionOverdue => "Décision en retard (due à {n})", "Decision overdue (due at {n})";
    AttentionDecisionDue => "Décision due à {n}", "Decision due at {n}";
    AttentionPmOverdue => "Post-mortem en retard (dû le {n})", "Post-mortem overdue (due {n})";
    AttentionPmDue => "Post-mortem dû le {n}", "Post-mortem due {n}";
    AttentionApproval => "Plan en attente de votre avis : {n}", "Plan waiting for your verdict: {n}";
    AttentionPlanReady => "Plan approuvé, pas encore exécuté : {n}", "Plan approved, not yet executed: {n}";
    AttentionMonitoringDue => "Contrôle de surveillance n° {n} à confirmer maintenant", "Monitoring check {n} to confirm now";
    AttentionActionOverdue => "Votre action corrective en retard (prévue le {n})", "Your corrective action is overdue (due {n})";
    SinceTime => "depuis {n}", "since {n}";
    PageMadeAt => "Page du {n}", "Page of {n}";
    RefreshPage => "Actualiser", "Refresh";
    AccountUnlock => "Débloquer", "Unlock";
    AccountLockedBadge => "bloqué", "locked";
    AccountUnlocked => "Connexion débloquée pour {n}.", "Sign-in unlocked for {n}.";
    AccountNothingToUnlock => "Ce compte n'était pas bloqué.", "This account was not locked.";
    RecentUnlocks => "Déblocages récents", "Recent unlocks";
    UnlockedBy => "débloqué par", "unlocked by";
    EmailRequired => "Saisissez une adresse e-mail valide (nom@domaine.fr).", "Enter a valid email address (name@domain.com).";
    PasswordRequired => "Saisissez votre mot de passe.", "Enter your password.";
    SessionExpiredTextKept => "Votre session a expiré avant l'envoi du formulaire : rien n'a été fait. Reconnectez-vous : vous reviendrez à la page, votre texte remis dans le formulaire.", "Your session expired before the form was sent: nothing was done. Sign in again: you will be back on the page with your text in the form.";
    SessionExpiredPostAgain => "Votre session a expiré avant l'envoi du formulaire : rien n'a été fait. Reconnectez-vous puis recommencez.", "Your session expired before the form was sent: nothing was done. Sign in again, then try once more.";
    TextRestored => "Vous êtes reconnecté : votre texte est remis dans le formulaire, relisez-le puis envoyez-le.", "You are signed in again: your text is back in the form; read it over, then send it.";
    FormStaleTextKept => "Ce formulaire venait d'une page ouverte avant votre dernière connexion : rien n'a été fait. Votre texte est remis dans le formulaire ; relisez-le puis envoyez-le.", "This form came from a page opened before your last sign-in: nothing was done. Your text is back in the form; read it over, then send it.";
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
    InternalErrorRef => "Une erreur est survenue de notre côté : rien n'a été enregistré. Réessayez ; si cela persiste, donnez la référence {n} à l'administrateur.", "Something went wrong on our side: nothing was saved. Please try again; if it goes on, give the administrator the reference {n}.";
    LoadFailedRef => "Cette page n'a pas pu être chargée. Réessayez ; si cela persiste, donnez la référence {n} à l'administrateur.", "This page could not be loaded. Please try again; if it goes on, give the administrator the reference {n}.";
    ControlCharacters => "Le champ « {n} » contient un caractère de contrôle (NUL, échappement…) : corrigez-le ; rien n'a été enregistré.", "The field “{n}” holds a control character (NUL, escape…): correct it; nothing was saved.";
    FormTooLarge => "Formulaire trop volumineux (4 Mo au plus) : rien n'a été enregistré.", "Form too large (4 MB at most): nothing was saved.";
    BadRequest => "Demande incomplète ou mal formée : rien n'a été enregistré.", "Incomplete or malformed request: nothing was saved.";
    SignInRequired => "Connectez-vous pour continuer.", "Sign in to continue.";
    ErrorReference => "Référence", "Reference";
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
    ReadOnlyAccount => "Votre compte est en lecture seule.", "Your account is read-only.";
    OnlyDecidersMay => "Seuls le responsable technique, le chef de projet, l'administrateur système et le développeur senior de garde peuvent faire cela (§2.2).", "Only the tech lead, the project manager, the system administrator and the senior developer on call may do this (§2.2).";
    NotInThisState => "Impossible dans l'état actuel de l'incident ({n}).", "Not possible in the incident's current state ({n}).";
    StepsMissing => "La décision demande d'abord les étapes 1 à 3 de la procédure de validation ; il manque : {n}.", "The decision first needs steps 1 to 3 of the validation procedure; missing: {n}.";
    StepAlreadyRecorded => "L'étape {n} est déjà enregistrée.", "Step {n} is already recorded.";
    DecisionStepIsTheDecision => "L'étape 4 s'enregistre en prenant la décision.", "Step 4 is recorded by taking the decision.";
    UnknownIncident => "Cet incident n'existe pas.", "This incident does not exist.";
    EnvironmentRequired => "Choisissez l'environnement touché.", "Choose the affected environment.";
    TitleRequired => "Saisissez un titre (200 caractères au plus).", "Enter a title (at most 200 characters).";
    DescriptionTooLong => "La description dépasse 20 000 caractères.", "The description is longer than 20,000 characters.";
    DetectedAtInvalid => "Saisissez une date et une heure de détection (AAAA-MM-JJ HH:MM).", "Enter a detection date and time (YYYY-MM-DD HH:MM).";
    DetectedInFuture => "La détection ne peut pas être dans le futur.", "The detection can't be in the future.";
    SeverityRequired => "Choisissez une sévérité.", "Choose a severity.";
    UnknownCriterion => "Critère inconnu : choisissez parmi ceux du §2.1.", "Unknown criterion: choose among those of §2.1.";
    TextTooLong => "Ce texte est trop long.", "This text is too long.";
    ReasonRequired => "Donnez la raison.", "Give the reason.";
    DecisionRequired => "Choisissez une décision.", "Choose a decision.";
    CommentRequired => "Le commentaire est vide.", "The comment is empty.";
    NewIncident => "Ouvrir un incident", "Open an incident";
    OpenIncidentButton => "Ouvrir l'incident", "Open the incident";
    Title => "Titre", "Title";
    Description => "Description", "Description";
    DetectedAt => "Détecté le", "Detected at";
    DetectedAtHint => "Heure de {n}. Par défaut : maintenant.", "Time in {n}. Default: now.";
    Severity => "Sévérité", "Severity";
    Environment => "Environnement", "Environment";
    SuspectRelease => "Release supposée défectueuse", "Release believed defective";
    Criteria => "Critères déclencheurs (§2.1)", "Trigger criteria (§2.1)";
    CriteriaOther => "Autre critère (texte libre)", "Other criterion (free text)";
    State => "État", "State";
    InterventionSla => "Intervention sous {n}", "Intervention within {n}";
    DecisionDeadline => "Décision avant", "Decide by";
    TimeLeft => "il reste {n}", "{n} left";
    OverdueBy => "En retard de {n}", "Overdue by {n}";
    Overdue => "En retard", "Overdue";
    ValidationSteps => "Procédure de validation (§2.2)", "Validation procedure (§2.2)";
    RecordStep => "Enregistrer l'étape", "Record the step";
    Note => "Note", "Note";
    NotRecorded => "Pas encore fait", "Not done yet";
    RecordedBy => "{n}", "{n}";
    TheDecision => "Décision", "Decision";
    Decide => "Décider", "Decide";
    Reason => "Raison", "Reason";
    EstimatedDuration => "durée estimée {n} min", "estimated {n} min";
    WhoMayDecide => "Peuvent décider : responsable technique, chef de projet, administrateur système, développeur senior de garde.", "Who may decide: tech lead, project manager, system administrator, senior developer on call.";
    Timeline => "Chronologie", "Timeline";
    AddComment => "Ajouter un commentaire (Markdown)", "Add a comment (Markdown)";
    Send => "Envoyer", "Send";
    CancelIncident => "Annuler l'incident", "Cancel the incident";
    CancelReason => "Raison de l'annulation", "Reason for cancelling";
    Filters => "Filtres", "Filters";
    OpenOnly => "Ouverts seulement", "Open only";
    OverdueOnly => "En retard seulement", "Overdue only";
    Any => "Tous", "Any";
    Apply => "Appliquer", "Apply";
    PreviousPage => "Page précédente", "Previous page";
    NextPage => "Page suivante", "Next page";
    PageOf => "Page {n}", "Page {n}";
    PagesLabel => "Pages", "Pages";
    NoIncidents => "Aucun incident.", "No incidents.";
    OpenIncidents => "Incidents ouverts", "Open incidents";
    FiguresAt => "Chiffres calculés à {n}.", "Figures as of {n}.";
    AllOpenIncidents => "Les {n} incidents ouverts", "All {n} open incidents";
    IncidentOpened => "Incident n°{n} ouvert.", "Incident #{n} opened.";
    StepRecordedNotice => "Étape {n} enregistrée.", "Step {n} recorded.";
    DecidedNotice => "Décision enregistrée.", "Decision recorded.";
    CommentedNotice => "Commentaire ajouté.", "Comment added.";
    CancelledNotice => "Incident annulé.", "Incident cancelled.";
    System => "Système", "System";
    AdminEnvironmentsTitle => "Environnements", "Environments";
    AddEnvironment => "Ajouter un environnement", "Add an environment";
    EnvironmentName => "Nom (ex. TaskFlow production)", "Name (e.g. TaskFlow production)";
    EnvironmentNameRequired => "Saisissez un nom (100 caractères au plus).", "Enter a name (at most 100 characters).";
    EnvironmentExists => "Un environnement porte déjà ce nom.", "An environment with this name already exists.";
    EnvironmentAdded => "Environnement {n} ajouté.", "Environment {n} added.";
    NoEnvironmentYet => "Aucun environnement n'est encore défini : un administrateur l'ajoute dans Administration › Environnements.", "No environment is defined yet: an administrator adds one under Admin › Environments.";
    UnknownEnvironment => "Cet environnement n'existe pas.", "This environment does not exist.";
    FieldRequired => "Ce champ est requis.", "This field is required.";
    FieldAbsolutePath => "Un chemin absolu est attendu (commençant par /, sans « .. »).", "An absolute path is expected (starting with /, without \"..\").";
    FieldPort => "Un port entre 1 et 65535.", "A port between 1 and 65535.";
    FieldUrl => "Une adresse http:// ou https://.", "An http:// or https:// address.";
    FieldCommand => "Saisissez la commande et ses arguments (entre guillemets pour un argument avec des espaces). Elle n'est jamais passée à un shell.", "Enter the command and its arguments (quote an argument with spaces). It is never given to a shell.";
    FieldEnvVarName => "Un nom de variable d'environnement (MAJUSCULES, chiffres, _).", "An environment variable name (CAPITALS, digits, _).";
    EnvironmentSaved => "Environnement {n} enregistré.", "Environment {n} saved.";
    EditEnvironment => "Configurer", "Configure";
    Target => "Cible", "Target";
    TargetLocal => "Locale (dossier racine sur la machine du runner)", "Local (root folder on the runner's machine)";
    TargetSsh => "SSH (client OpenSSH)", "SSH (OpenSSH client)";
    LocalRoot => "Dossier racine", "Root folder";
    SshUser => "Utilisateur SSH", "SSH user";
    SshHost => "Hôte SSH", "SSH host";
    SshPort => "Port SSH", "SSH port";
    SshKeyPath => "Fichier de clé privée", "Private key file";
    SshKnownHosts => "Entrée known_hosts de l'hôte", "The host's known_hosts entry";
    Paths => "Chemins", "Paths";
    ReleasesDir => "Dossier des releases", "Releases folder";
    CurrentLink => "Lien current", "The current link";
    BackupsDir => "Dossier des sauvegardes", "Backups folder";
    PublicDir => "Dossier public (page de maintenance)", "Public folder (maintenance page)";
    HealthUrl => "URL de vérification (§4.2 étape 7)", "Health URL (§4.2 step 7)";
    Commands => "Commandes (listes d'arguments, jamais de shell)", "Commands (argument lists, never a shell)";
    CmdCacheClear => "Vider le cache (§4.2 étape 5)", "Clear the cache (§4.2 step 5)";
    CmdCacheWarmup => "Préchauffer le cache (§4.2 étape 5)", "Warm up the cache (§4.2 step 5)";
    CmdPhpFpmReload => "Recharger PHP-FPM (§4.2 étape 6)", "Reload PHP-FPM (§4.2 step 6)";
    CmdPhpFpmStop => "Arrêter PHP-FPM (§5.2 étape 5)", "Stop PHP-FPM (§5.2 step 5)";
    CmdPhpFpmStart => "Démarrer PHP-FPM (§5.2 étape 9)", "Start PHP-FPM (§5.2 step 9)";
    CmdApacheReload => "Recharger Apache (§4.2 étape 6)", "Reload Apache (§4.2 step 6)";
    Database => "Base de données", "Database";
    DbKind => "Type", "Kind";
    DbHost => "Hôte", "Host";
    DbPort => "Port", "Port";
    DbName => "Nom de la base", "Database name";
    DbUser => "Utilisateur", "User";
    DbPasswordSource => "Le mot de passe vient", "The password comes from";
    DbPasswordEnv => "d'une variable d'environnement du serveur", "an environment variable of the server";
    DbPasswordFile => "d'un fichier sur le serveur", "a file on the server";
    DbPasswordRef => "Nom de la variable ou chemin du fichier (le mot de passe n'est jamais enregistré)", "Variable name or file path (the password itself is never stored)";
    InventoryTitle => "Inventaire de la cible", "Target inventory";
    RefreshInventory => "Lire l'inventaire maintenant", "Read the inventory now";
    InventoryTaken => "Inventaire lu le {n}", "Inventory read on {n}";
    InventoryRefreshed => "Inventaire lu.", "Inventory read.";
    InventoryFailed => "Lecture de l'inventaire impossible : {n}", "Could not read the inventory: {n}";
    PlanExists => "Cet incident a déjà son plan : modifiez-le.", "This incident already has its plan: revise it.";
    NoPlanYet => "Il n'y a pas encore de plan.", "There is no plan yet.";
    ManualStepsRequired => "Écrivez les étapes du rollback système, une par ligne (50 au plus, 500 caractères chacune).", "Write the steps of the system rollback, one per line (at most 50, 500 characters each).";
    TargetReleaseInvalid => "Choisissez une release de l'inventaire.", "Choose a release from the inventory.";
    TargetReleaseNotOlder => "Cette release n'est pas plus ancienne que la release défectueuse : un rollback revient en arrière (§4.2 étape 4).", "This release is not older than the defective one: a rollback goes back (§4.2 step 4).";
    BackupNotInInventory => "Choisissez une sauvegarde de l'inventaire.", "Choose a backup from the inventory.";
    PlanNoDefectiveRelease => "Impossible de dire quelle release est défectueuse : aucune release suspecte connue dans l'incident, aucun déploiement enregistré avant la détection, et le lien current ne pointe vers aucune release.", "There is no telling which release is defective: no known suspect release in the incident, no deployment recorded before the detection, and the current link points to no release.";
    PlanStale => "Ce qui a servi à faire le plan a changé depuis : révisez le plan (les approbations données ne comptent plus).", "What the plan was made from has changed since: revise the plan (the approvals given no longer count).";
    SkipNeedsReason => "Reprendre plus loin saute des étapes qui n'ont pas réussi : dites pourquoi (enregistré avec chaque étape sautée).", "Resuming further on skips steps that did not succeed: say why (recorded with each skipped step).";
    OnlyRequesterWithdraws => "Seule la personne qui a préparé ou révisé le plan peut le retirer.", "Only the person who prepared or revised the plan may withdraw it.";
    PlanStatusWithdrawn => "Retiré par son auteur : révisez le plan pour le proposer de nouveau.", "Withdrawn by its author: revise the plan to propose it again.";
    PlanStatusStale => "Périmé : révisez le plan", "Stale: revise the plan";
    PlanStatusExecuting => "En cours d'exécution", "Being executed";
    PlanStatusExecuted => "Exécuté", "Executed";
    PlanChangedSince => "Depuis que ce plan a été fait :", "Since this plan was made:";
    ChangeTarget => "la cible de l'environnement a changé (dossier racine, ou utilisateur, hôte, port, clé ou known_hosts SSH)", "the environment's target changed (root folder, or SSH user, host, port, key or known_hosts)";
    ChangeDatabase => "la connexion à la base ou la source de son mot de passe a changé", "the database connection or its password source changed";
    ChangeSettings => "d'autres réglages de l'environnement ont changé (chemins, commandes, URL de santé, fuseau)", "other settings of the environment changed (paths, commands, health URL, time zone)";
    ChangeCurrent => "le lien current pointe ailleurs", "the current link points elsewhere";
    ChangeReleaseGone => "la release à restaurer n'est plus sur la cible", "the release to restore is no longer on the target";
    ChangeBackup => "la sauvegarde a été réécrite ou supprimée (taille ou sha256)", "the backup was rewritten or removed (size or sha256)";
    ChangeDeployment => "un déploiement a été enregistré", "a deployment was recorded";
    ChangeUnknown => "le plan date d'avant ces vérifications", "the plan predates these checks";
    DefectiveFromSuspect => "release suspecte de l'incident", "the incident's suspect release";
    DefectiveFromDeployment => "dernier déploiement enregistré avant la détection (§11.2)", "the last deployment recorded before the detection (§11.2)";
    DefectiveFromCurrent => "là où pointe current (aucun déploiement enregistré)", "where current points (no deployment recorded)";
    DefectiveRelease => "Release défectueuse", "Defective release";
    WarnReleaseOlder => "Plus ancienne que la release proposée ({n}) : les releases entre les deux sont annulées aussi.", "Older than the proposed release ({n}): the releases in between are undone too.";
    WarnBackupOlder => "Plus ancienne que la sauvegarde proposée ({n}) : davantage de données seront perdues.", "Older than the proposed backup ({n}): more data will be lost.";
    WarnBackupAfterDeployment => "Prise après le déploiement défectueux ({n}) : elle peut contenir des données écrites par la version défectueuse.", "Taken after the defective deployment ({n}): it may hold data the defective version wrote.";
    SwitchNoOp => "current pointe déjà vers cette release : l'étape ne changera rien et le vérifiera.", "current already points to this release: the step will change nothing and will check so.";
    ReviewDeactivated => "ne compte plus : compte désactivé", "no longer counts: account deactivated";
    ReviewNoLongerDecider => "ne compte plus : n'a plus de rôle §2.2", "no longer counts: no longer holds a §2.2 role";
    VerdictWithdrawn => "Retiré", "Withdrawn";
    WithdrawPlan => "Retirer le plan", "Withdraw the plan";
    WithdrawExplain => "Retirer bloque cette version du plan jusqu'à sa révision.", "Withdrawing blocks this version of the plan until it is revised.";
    PlanWithdrawnNotice => "Plan retiré.", "Plan withdrawn.";
    OpenExecutedExecution => "Voir l'exécution", "See the execution";
    ExecSucceededWithSkips => "Réussie avec des étapes sautées", "Succeeded with skipped steps";
    StepSkipped => "sautée", "skipped";
    SkippedStepsList => "Étapes sautées : {n}", "Skipped steps: {n}";
    BackupMustPrecedeDeployment => "Choisissez une sauvegarde de l'inventaire prise avant le déploiement défectueux (§5.2 étape 3).", "Choose a backup from the inventory taken before the defective deployment (§5.2 step 3).";
    PlanUnchanged => "Rien n'a changé dans le plan.", "Nothing changed in the plan.";
    PlanNoInventory => "La cible n'a pas encore été inventoriée : lisez l'inventaire depuis la page de l'environnement.", "The target has not been inventoried yet: read the inventory from the environment page.";
    PlanNoOlderRelease => "Aucune release plus ancienne que la release défectueuse {n} : rien vers quoi revenir.", "No release older than the defective release {n}: nothing to go back to.";
    PlanNoEarlierBackup => "Aucune sauvegarde n'a été prise avant le déploiement de {n} : la base ne peut pas être restaurée (§5.2 étape 3).", "No backup was taken before the deployment of {n}: the database cannot be restored (§5.2 step 3).";
    OnlyDecidersMayApprove => "Seuls les quatre rôles du §2.2 approuvent ou rejettent un plan.", "Only the four §2.2 roles approve or reject a plan.";
    CannotApproveOwnPlan => "Vous avez préparé ce plan : deux autres personnes doivent l'approuver.", "You prepared this plan: two other people must approve it.";
    PlanNeedsNoApproval => "Ce plan (rollback applicatif) ne demande pas d'approbation.", "This plan (application rollback) needs no approval.";
    PlanChangedSinceRead => "Le plan a changé depuis que vous l'avez lu : relisez-le avant de donner votre avis.", "The plan changed since you read it: read it again before giving your verdict.";
    AlreadyReviewed => "Vous avez déjà donné votre avis sur cette version du plan.", "You already gave your verdict on this version of the plan.";
    PlanNotAwaiting => "Ce plan n'attend plus d'approbation.", "This plan no longer awaits approval.";
    PlanNotReady => "Le plan n'a pas ce qu'il lui faut : approbations manquantes, expirées ou rejet.", "The plan does not have what it needs: approvals missing, expired, or a rejection.";
    EnvironmentBusy => "Une autre exécution occupe cet environnement : terminez-la ou abandonnez-la d'abord.", "Another execution holds this environment: finish or abort it first.";
    NoExecution => "Il n'y a pas d'exécution pour cet incident.", "There is no execution for this incident.";
    EarlierAttemptRunning => "Un processus de la tentative précédente de l'étape {n} tourne encore : attendez qu'il se termine (ou arrêtez-le sur la cible), puis réessayez.", "A process of the earlier attempt at step {n} is still running: wait for it to end (or stop it on the target), then try again.";
    EarlierAttemptElsewhere => "La tentative précédente a tourné sur le serveur {n}, que ce serveur ne peut pas vérifier : relancez depuis ce serveur-là, ou vérifiez qu'aucun de ses processus ne tourne et abandonnez l'exécution.", "The earlier attempt ran on server {n}, which this server can't check: retry from that server, or make sure none of its processes runs and abort the execution.";
    PartialRestoreOnlyRetry => "La restauration de la base n'est pas allée à son terme : la base est partiellement restaurée. Relancez la restauration, ou abandonnez et restaurez une autre sauvegarde ; reprendre plus loin n'est pas possible.", "The database restore did not finish: the database is partially restored. Retry the restore, or abort and restore another backup; resuming further on is not possible.";
    StepN => "étape {n}", "step {n}";
    PartialRestoreTitle => "Base de données partiellement restaurée", "Database partially restored";
    PartialRestoreText => "{n} : la restauration ne s'est pas terminée. Les seules suites possibles : relancer la restauration, ou restaurer une autre sauvegarde.", "{n}: the restore did not finish. The only ways forward: retry the restore, or restore another backup.";
    PartialRestoreDetail => "Sauvegarde {n}", "Backup {n}";
    PartialRestoreSince => "depuis", "since";
    PartialRestoreOpen => "Exécution de l'incident", "The incident's execution";
    UndeliveredTitle => "E-mails non remis", "Emails not delivered";
    UndeliveredText => "{n} message(s) n'ont pas pu être remis : renvoyez-les depuis la page des e-mails de l'incident.", "{n} message(s) could not be delivered: send them again from the incident's emails page.";
    UndeliveredRecipients => "Destinataires non atteints", "Recipients not reached";
    ResendAll => "Renvoyer tous les e-mails non remis", "Send every undelivered email again";
    ResendOne => "Renvoyer", "Send again";
    Resent => "Renvoi programmé : {n} message(s).", "Sending again: {n} message(s).";
    NothingToResend => "Aucun message non remis à renvoyer.", "No undelivered message to send again.";
    StatusFailed => "échec", "failed";
    StatusBounced => "refusé (adresse)", "bounced (address)";
    ExecutionNotInThisStatus => "Impossible dans l'état actuel de l'exécution ({n}).", "Not possible in the execution's current status ({n}).";
    NoSuchStep => "Cette étape n'existe pas.", "There is no such step.";
    CancelAlreadyAsked => "L'arrêt est déjà demandé : il aura lieu à la fin de l'étape en cours.", "Stopping is already asked: it happens when the running step ends.";
    NotAManualStep => "L'exécution n'attend pas d'étape manuelle.", "The execution is not waiting for a manual step.";
    ExecutionTitle => "Exécution", "Execution";
    Execute => "Exécuter le plan", "Execute the plan";
    OpenExecution => "Suivre l'exécution", "Follow the execution";
    ExecutionQueued => "Exécution lancée : le runner la prend en charge.", "Execution started: the runner takes it.";
    ExecutionUpdated => "C'est noté.", "Done.";
    Phone => "Téléphone", "Phone";
    Role => "Rôle", "Role";
    Remove => "Retirer", "Remove";
    PhoneInvalid => "Saisissez un numéro de téléphone (40 caractères au plus).", "Enter a phone number (at most 40 characters).";
    OnlyOrganizersContacts => "Seuls les administrateurs, le responsable technique et le chef de projet tiennent les contacts.", "Only admins, the tech lead and the project manager keep the contacts.";
    ShiftEndsBeforeItStarts => "La fin de l'astreinte doit suivre son début.", "The shift must end after it starts.";
    TimeSkippedByDst => "Cette heure n'existe pas ce jour-là (changement d'heure).", "This time does not exist that day (daylight-saving change).";
    NobodyOnCall => "Personne n'est d'astreinte en ce moment : ajoutez une astreinte (§10.2 : 24h/7j).", "Nobody is on call now: add a shift (§10.2: 24/7).";
    OnCallUntil => "d'astreinte jusqu'au {n}", "on call until {n}";
    OnCallTitle => "Astreintes (§10.2)", "On call (§10.2)";
    OnCallHelp => "Astreinte 24h/7j. Délais d'intervention : critique 15 minutes, urgent 1 heure, normal 4 heures.", "On call 24/7. Intervention delays: critical 15 minutes, urgent 1 hour, normal 4 hours.";
    TeamTitle => "Équipe technique (§10.1)", "Technical team (§10.1)";
    HostingSupport => "Support hébergeur", "Hosting support";
    HostingProvider => "Hébergeur", "Provider";
    HostingPortal => "Portail client", "Customer portal";
    AddContact => "Ajouter un contact", "Add a contact";
    AddShift => "Ajouter une astreinte", "Add an on-call shift";
    ShiftStart => "Début", "Start";
    ShiftEnd => "Fin", "End";
    ShiftTimeZone => "Heures saisies dans votre fuseau : {n}.", "Times typed in your time zone: {n}.";
    WhoToCall => "Qui appeler maintenant", "Who to call now";
    SomeoneOnItBy => "Quelqu'un doit être dessus avant le {n}", "Someone must be on it by {n}";
    UsefulCommands => "Commandes utiles (§11.1)", "Useful commands (§11.1)";
    CmdConnect => "Se connecter au serveur", "Connect to the server";
    CmdListReleases => "Lister toutes les releases disponibles avec leur date", "List every release available with its date";
    CmdCurrentRelease => "Voir quelle version est actuellement déployée", "See which version is deployed now";
    CmdDatabaseTest => "Tester la connexion à la base de données", "Test the database connection";
    CmdFollowLogs => "Vérifier les logs en temps réel", "Follow the logs live";
    CmdServiceStatus => "Vérifier l'état des services", "Check the services";
    CmdResources => "Vérifier l'utilisation des ressources", "Check resource usage";
    RollbackHistory => "Historique des rollbacks", "Rollback history";
    All => "Tous", "All";
    Filter => "Filtrer", "Filter";
    Backup => "Sauvegarde", "Backup";
    Approvers => "Approbateurs", "Approvers";
    RollbackTypeLabel => "Type de rollback", "Rollback type";
    PeriodFrom => "Du", "From";
    PeriodTo => "Au", "To";
    ExportCsv => "Exporter en CSV", "Export as CSV";
    ColToDecide => "Détection → décision", "Detection → decision";
    ColToRestore => "Décision → restauration", "Decision → restore";
    ColDowntime => "Indisponibilité", "Downtime";
    Outcome => "Issue", "Outcome";
    FigRollbacks => "Rollbacks : {n}", "Rollbacks: {n}";
    FigDecidedInTime => "Décidés dans les 30 minutes (§2.2) : {n}", "Decided within 30 minutes (§2.2): {n}";
    FigRestoredInEstimate => "Restaurés dans l'estimation du §3 : {n}", "Restored within the §3 estimate: {n}";
    FigMttr => "Temps moyen de rétablissement (MTTR, détection → restauration) : {n}", "Mean time to restore (MTTR, detection → restore): {n}";
    ChartPerMonth => "Rollbacks par mois et par type", "Rollbacks per month by type";
    ChartToDecide => "Minutes pour décider (ligne : 30 minutes, §2.2)", "Minutes to decide (line: 30 minutes, §2.2)";
    ChartToRestore => "Minutes de la décision à la restauration (trait : l'estimation haute du §3 pour le type)", "Minutes from decision to restore (tick: the §3 upper estimate for the type)";
    NoPostMortem => "Cet incident n'a pas de post-mortem : il est créé quand le rollback se termine.", "This incident has no post-mortem: it is created when the rollback ends.";
    PostMortemFinalized => "Ce post-mortem est finalisé : il ne change plus.", "This post-mortem is finalized: it no longer changes.";
    NotAParticipant => "Seuls les participants, le responsable technique et le chef de projet modifient le post-mortem.", "Only the participants, the tech lead and the project manager edit the post-mortem.";
    OnlyOrganizersChooseParticipants => "Seuls le responsable technique et le chef de projet choisissent les participants : les participants n'ont pas été changés, rien n'a été enregistré.", "Only the tech lead and the project manager choose the participants: they were not changed, nothing was saved.";
    ParticipantsChosenByOrganizers => "Choisis par le responsable technique ou le chef de projet.", "Chosen by the tech lead or the project manager.";
    PostMortemConflict => "Quelqu'un a enregistré le post-mortem pendant que vous l'écriviez : {n}. Rien n'a été écrasé : votre texte est resté dans le formulaire, leur version est affichée ci-dessous. Reportez ce qui manque puis enregistrez.", "Someone saved the post-mortem while you were writing: {n}. Nothing was overwritten: your text stayed in the form, their version is shown below. Carry over what is missing, then save.";
    OnlyOrganizersFinalize => "Seuls le responsable technique et le chef de projet finalisent le post-mortem (et l'incident doit être résolu).", "Only the tech lead and the project manager finalize the post-mortem (and the incident must be resolved).";
    ActionToDo => "À faire", "To do";
    ActionInProgress => "En cours", "In progress";
    ActionDone => "Fait", "Done";
    ParticipantTechLead => "Responsable technique", "Tech lead";
    ParticipantDeployer => "Développeur ayant effectué le déploiement", "Developer who deployed";
    ParticipantQa => "Testeur QA", "QA tester";
    ParticipantProjectManager => "Chef de projet", "Project manager";
    PostMortemTitle => "Post-mortem", "Post-mortem";
    PostMortemOf => "Post-mortem : rollback du {n}", "Post-mortem: rollback of {n}";
    OpenPostMortem => "Post-mortem", "Post-mortem";
    DueBy => "À tenir avant le {n}", "Due by {n}";
    Participants => "Participants requis (§8.1)", "Required participants (§8.1)";
    MissingParticipants => "Manquent : {n}", "Missing: {n}";
    AllParticipants => "Tous les participants requis sont désignés.", "All required participants are chosen.";
    MeetingAt => "Date de la réunion", "Meeting date";
    MeetingLateReason => "Raison, si la réunion a lieu après 48 heures", "Reason, if the meeting is after 48 hours";
    MeetingLate => "La réunion doit avoir lieu dans les 48 heures après le rollback, ou donnez la raison.", "The meeting must take place within 48 hours of the rollback, or give the reason.";
    MeetingBeforeRollback => "La réunion ne peut pas précéder la fin du rollback.", "The meeting can't come before the rollback ended.";
    BadDateTime => "Date et heure attendues (AAAA-MM-JJ HH:MM).", "A date and time is expected (YYYY-MM-DD HH:MM).";
    BadDate => "Date attendue (AAAA-MM-JJ).", "A date is expected (YYYY-MM-DD).";
    BadMinutes => "Un nombre entier de minutes est attendu.", "A whole number of minutes is expected.";
    ActionTextMissing => "Décrivez l'action (ou videz la ligne).", "Describe the action (or empty the row).";
    UnknownPerson => "Cette personne n'existe pas.", "This person does not exist.";
    PmSummary => "Résumé", "Summary";
    PmSummaryHelp => "Description courte du problème et de la résolution.", "A short description of the problem and its resolution.";
    PmChronology => "Chronologie", "Timeline";
    PmChronologyHelp => "Une ligne par étape, « HH:MM - ce qui s'est passé » ; pré-remplie depuis l'historique de l'incident.", "One line per step, \"HH:MM - what happened\"; pre-filled from the incident's history.";
    PmRootCause => "Cause racine", "Root cause";
    PmRootCausePrompt => "§8.2 : Qu'est-ce qui a mal fonctionné ? Pourquoi le problème n'a-t-il pas été détecté en pré-production ? Combien de temps pour le détecter, comment, les alertes ont-elles fonctionné ?", "§8.2: What went wrong? Why was the problem not caught in pre-production? How long to detect it, how, did the alerts work?";
    PmImpact => "Impact", "Impact";
    PmImpactPrompt => "§8.2 : nombre d'utilisateurs affectés, durée de l'incident, perte de données éventuelle, impact métier.", "§8.2: number of users affected, duration of the incident, any data loss, business impact.";
    PmUsersAffected => "Utilisateurs affectés", "Users affected";
    PmDuration => "Durée (minutes)", "Duration (minutes)";
    PmDataLoss => "Perte de données", "Data loss";
    PmServices => "Services impactés", "Services impacted";
    PmWentWell => "Ce qui a bien fonctionné", "What went well";
    PmToImprove => "Ce qui doit être amélioré", "What must improve";
    PmRollbackPrompt => "§8.2 : Le rollback s'est-il déroulé comme prévu ? Quelles difficultés ? Le temps de résolution était-il acceptable ? (un point par ligne)", "§8.2: Did the rollback go as planned? What difficulties? Was the time to resolve acceptable? (one point per line)";
    PmActions => "Actions correctives", "Corrective actions";
    PmActionsPrompt => "§8.2 : tests supplémentaires, améliorations du processus de déploiement, formation nécessaire, outils de monitoring à ajouter.", "§8.2: more tests, deployment process improvements, training needed, monitoring tools to add.";
    PmAction => "Action", "Action";
    PmOwner => "Responsable", "Owner";
    PmDue => "Échéance", "Due";
    PmStatus => "Statut", "Status";
    PmLessons => "Leçons apprises", "Lessons learned";
    PmSave => "Enregistrer", "Save";
    PmSaved => "Post-mortem enregistré.", "Post-mortem saved.";
    PmFinalize => "Finaliser le post-mortem", "Finalize the post-mortem";
    PmFinalized => "Post-mortem finalisé : l'incident est clos.", "Post-mortem finalized: the incident is closed.";
    PmFinalizedBy => "Finalisé par {n}", "Finalized by {n}";
    PmRevision => "Révision {n}", "Revision {n}";
    PmExport => "Exporter en Markdown", "Export as Markdown";
    PmTheirVersion => "Leur version (enregistrée)", "Their version (saved)";
    PmNobody => "— personne —", "— nobody —";
    PostMortemsHelp => "Un post-mortem par rollback, à tenir dans les 48 heures (§8.1). Les plus urgents d'abord.", "One post-mortem per rollback, to hold within 48 hours (§8.1). The most urgent first.";
    NoPostMortems => "Aucun post-mortem pour l'instant.", "No post-mortem yet.";
    Finalized => "Finalisé", "Finalized";
    ActionsTitle => "Actions correctives ouvertes", "Open corrective actions";
    MyActions => "Mes actions correctives", "My corrective actions";
    NoOpenActions => "Aucune action corrective ouverte.", "No open corrective action.";
    YesWord => "Oui", "Yes";
    NoWord => "Non", "No";
    ItemIsAutomatic => "Cet élément est vérifié par le runner : relancez la vérification plutôt.", "The runner checks this item: re-run the check instead.";
    ItemAlreadyDone => "Cet élément est déjà coché.", "This item is already ticked.";
    CheckAlreadyQueued => "Cette vérification est déjà en attente du runner.", "This check already waits for the runner.";
    CheckNotDue => "Ce contrôle n'est pas encore dû.", "This check is not due yet.";
    CheckAlreadyConfirmed => "Ce contrôle est déjà confirmé.", "This check is already confirmed.";
    CheckMissed => "Ce contrôle est manqué : son quart d'heure est passé. Confirmez le suivant.", "This check was missed: its quarter of an hour has passed. Confirm the next one.";
    ResolveReasonNeeded => "Avant la fin des 2 heures de surveillance (§6.3), donnez la raison de résoudre plus tôt.", "Before the end of the 2-hour monitoring (§6.3), give the reason to resolve early.";
    MonitoringAlert => "Contrôle de surveillance en échec ({n})", "Monitoring check failed ({n})";
    CheckMainUrl => "L'application est accessible via l'URL principale", "The application answers at its main URL";
    CheckHomePage => "La page d'accueil se charge sans erreur", "The home page loads without error";
    CheckSignIn => "Les utilisateurs peuvent se connecter", "Users can sign in";
    CheckMainFeatures => "Les fonctionnalités principales sont opérationnelles", "The main features work";
    CheckLogs => "Les logs ne contiennent pas d'erreurs critiques", "The logs hold no critical errors";
    CheckDatabase => "La base de données répond correctement", "The database answers correctly";
    CheckEmails => "Les emails sont envoyés (tester avec un email de test)", "Emails are sent (test with a test email)";
    CheckSessions => "Les sessions utilisateurs fonctionnent", "User sessions work";
    CheckAssets => "Les assets (CSS, JS, images) se chargent correctement", "Assets (CSS, JS, images) load correctly";
    CheckPerformance => "Les performances sont normales (temps de réponse < 2s)", "Performance is normal (response time < 2 s)";
    ItemWaiting => "À cocher", "To tick";
    ItemQueued => "En attente du runner", "Waiting for the runner";
    ItemRunning => "En cours de vérification", "Being checked";
    ItemPassed => "OK", "OK";
    ItemFailed => "Échec", "Failed";
    TheRunner => "le runner", "the runner";
    Automatic => "(automatique)", "(automatic)";
    Manual => "(à vérifier par une personne)", "(checked by a person)";
    VerificationTitle => "Vérification", "Verification";
    OpenVerification => "Vérification après rollback", "Verification after the rollback";
    NoVerificationYet => "La vérification commence quand l'exécution du plan réussit.", "Verification starts when the plan's execution succeeds.";
    ChecklistTitle => "Checklist de validation (§6.1)", "Validation checklist (§6.1)";
    ChecklistHelp => "Le runner vérifie les éléments automatiques et montre ce qu'il a vu ; les autres sont cochés par une personne. Les dix éléments faits, la surveillance de 2 heures commence.", "The runner checks the automatic items and shows what it saw; people tick the others. With all ten done, the 2-hour monitoring begins.";
    MonitoringTitle => "Surveillance post-rollback (§6.3)", "Post-rollback monitoring (§6.3)";
    MonitoringWindow => "Fenêtre de 2 heures, un contrôle toutes les 15 minutes : {n}", "2-hour window, a check every 15 minutes: {n}";
    NextCheck => "Prochain contrôle : n° {n}", "Next check: no. {n}";
    CheckNumber => "Contrôle n° {n}", "Check {n}";
    SlotDone => "Confirmé", "Confirmed";
    SlotDue => "À faire maintenant", "Due now";
    SlotMissed => "Manqué", "Missed";
    SlotUpcoming => "À venir", "Upcoming";
    TakenByRunner => "Vérifications automatiques du runner à {n} :", "The runner's automatic checks at {n}:";
    ConfirmedBy => "Confirmé par {n}", "Confirmed by {n}";
    MonitoringPrompts => "Logs consultés, métriques de performance, retours des utilisateurs, ressources du serveur (§6.3) : notez ce que vous avez vu.", "Logs read, performance metrics, user feedback, server resources (§6.3): note what you saw.";
    ConfirmCheckButton => "Confirmer ce contrôle", "Confirm this check";
    NoteOptional => "Note (facultative)", "Note (optional)";
    TickItem => "Cocher", "Tick";
    RerunCheck => "Relancer la vérification", "Re-run the check";
    Resolution => "Résolution", "Resolution";
    ResolveHelp => "Les 2 heures de surveillance sont passées : l'incident peut être résolu.", "The 2 hours of monitoring have passed: the incident can be resolved.";
    ResolveEarlyHelp => "La surveillance de 2 heures n'est pas finie : résoudre maintenant demande une raison.", "The 2-hour monitoring has not ended: resolving now needs a reason.";
    ResolveReason => "Raison de résoudre avant la fin de la surveillance", "Reason to resolve before monitoring ends";
    ResolveIncident => "Résoudre l'incident", "Resolve the incident";
    IncidentResolved => "Incident résolu.", "Incident resolved.";
    ResolvedBy => "Résolu par {n}", "Resolved by {n}";
    RestoredAt => "Service rétabli à {n} (utilisé pour la durée d'indisponibilité et le MTTR)", "Service restored at {n} (used for downtime and MTTR)";
    ExecQueued => "En file d'attente", "Queued";
    ExecRunning => "En cours", "Running";
    ExecWaiting => "Attend une personne (étape manuelle)", "Waiting for a person (manual step)";
    ExecSucceeded => "Terminée avec succès", "Succeeded";
    ExecFailed => "Échouée : rien après l'étape en échec n'a été exécuté", "Failed: nothing after the failed step ran";
    ExecCancelled => "Arrêtée", "Cancelled";
    ExecInterrupted => "Interrompue (le runner s'est arrêté) : reprenez ou abandonnez", "Interrupted (the runner stopped): resume or abort";
    ExecAborted => "Abandonnée", "Aborted";
    StepRunning => "en cours", "running";
    StepSucceeded => "réussie", "succeeded";
    StepFailed => "échouée", "failed";
    StepInterrupted => "interrompue", "interrupted";
    StepPending => "à venir", "pending";
    ExitCode => "code de sortie", "exit code";
    HttpStatus => "statut HTTP", "HTTP status";
    FailureAt => "Échec à l'étape {n}", "Failed at step {n}";
    InterruptedAt => "Interrompue à l'étape {n}", "Interrupted at step {n}";
    FailureWhy => "Pourquoi (dernières lignes de sa sortie) :", "Why (the last lines of its output):";
    FailureNoOutput => "L'étape n'a rien écrit.", "The step wrote nothing.";
    CurrentNow => "current pointe maintenant vers {n}", "current now points to {n}";
    CurrentUnread => "Où pointe current n'a pas pu être lu : {n}", "Where current points could not be read: {n}";
    CurrentReadAt => "lu le {n}", "read {n}";
    WhatNow => "Que faire : réessayer l'étape, reprendre à une étape choisie (les étapes sautées demandent une raison) ou abandonner.", "What now: retry the step, resume from a chosen step (skipped steps need a reason) or abort.";
    Attempt => "tentative", "attempt";
    CancelExecution => "Arrêter", "Cancel";
    ExecutionFailedAt => "L'exécution a échoué à l'étape {n} : rien après n'a été exécuté. Un rôle du §2.2 relance l'étape, reprend plus loin ou abandonne.", "The execution failed at step {n}: nothing after it ran. A §2.2 role retries the step, resumes further on, or aborts.";
    ExecutionInterruptedAt => "L'exécution a été interrompue à l'étape {n} (le runner s'est arrêté). Un rôle du §2.2 la reprend ou l'abandonne.", "The execution was interrupted at step {n} (the runner stopped). A §2.2 role resumes or aborts it.";
    ExecutionWaitingAt => "L'exécution attend une personne à l'étape {n} (étape manuelle).", "The execution waits for a person at step {n} (manual step).";
    KillStep => "Tuer l'étape en cours maintenant", "Kill the running step now";
    EventExecutionKillRequested => "Arrêt immédiat de l'étape demandé", "Kill of the running step asked";
    CancelAsked => "(arrêt demandé : après l'étape en cours)", "(stop asked: after the running step)";
    RetryStep => "Relancer l'étape", "Retry the step";
    AbortExecution => "Abandonner", "Abort";
    ResumeFrom => "Reprendre à l'étape", "Resume from step";
    Resume => "Reprendre", "Resume";
    ManualDone => "Étape faite", "Step done";
    ManualFailed => "Étape impossible", "Step failed";
    RequestedBy => "Lancée par", "Started by";
    FinishedAt => "terminée le", "finished on";
    Refresh => "Actualiser", "Refresh";
    EventExecutionQueued => "Exécution lancée", "Execution started";
    EventExecutionStarted => "Exécution prise par le runner", "Execution taken by the runner";
    EventStepStarted => "Étape commencée", "Step started";
    EventStepSucceeded => "Étape réussie", "Step succeeded";
    EventStepFailed => "Étape en échec", "Step failed";
    EventExecutionSucceeded => "Exécution réussie", "Execution succeeded";
    EventChecklistItemTicked => "Élément de la checklist coché (§6.1)", "Checklist item ticked (§6.1)";
    EventAutomaticCheck => "Vérification automatique (§6.1)", "Automatic check (§6.1)";
    EventCheckRerunRequested => "Vérification relancée", "Check re-run asked";
    EventMonitoringCheckFailed => "Contrôle de surveillance en échec (§6.3)", "Monitoring check failed (§6.3)";
    EventMonitoringCheckConfirmed => "Contrôle de surveillance confirmé (§6.3)", "Monitoring check confirmed (§6.3)";
    EventIncidentResolved => "Incident résolu", "Incident resolved";
    EventPostMortemCreated => "Post-mortem créé (à tenir sous 48 h)", "Post-mortem created (due within 48 h)";
    EventPostMortemSaved => "Post-mortem enregistré", "Post-mortem saved";
    EventPostMortemFinalized => "Post-mortem finalisé", "Post-mortem finalized";
    EventPostMortemReminded => "Rappel : post-mortem dû dans moins de 12 heures", "Reminder: post-mortem due in less than 12 hours";
    AlertRuleLine => "Ligne {n} illisible (attendu : « valeur: gravité » ou « label=valeur: critère »)", "Line {n} can't be read (expected \"value: severity\" or \"label=value: criterion\")";
    AlertsTitle => "Alertes", "Alerts";
    AlertFiring => "en cours", "firing";
    AlertResolvedAt => "résolue le {n}", "resolved {n}";
    AlertStartedAt => "depuis le {n}", "since {n}";
    AlertSource => "Source", "Source";
    AlertDashboard => "Tableau de bord", "Dashboard";
    AlertPanel => "Panneau", "Panel";
    DeployedBeforeAlert => "déployée {n} avant l'alerte", "deployed {n} before the alert";
    IntegrationsTitle => "Intégrations", "Integrations";
    AlertIntakeTitle => "Alertes entrantes (Alertmanager, Grafana)", "Incoming alerts (Alertmanager, Grafana)";
    AlertIntakeUrl => "Adresse du webhook (jeton en en-tête « Authorization: Bearer ») :", "Webhook address (token in the \"Authorization: Bearer\" header):";
    AlertTokenSetAt => "Jeton créé le {n} (il n'est montré qu'une fois).", "Token made {n} (it is shown only once).";
    AlertTokenNone => "Pas encore de jeton : aucune alerte n'est acceptée.", "No token yet: no alert is accepted.";
    AlertTokenCreate => "Créer le jeton", "Make the token";
    AlertTokenRotate => "Remplacer le jeton (l'ancien cesse de fonctionner)", "Replace the token (the old one stops working)";
    AlertTokenShownOnce => "Nouveau jeton, à copier maintenant (il ne sera plus montré) : {n}", "New token, copy it now (it won't be shown again): {n}";
    AlertSeverityRules => "Gravité selon le label « severity »", "Severity from the \"severity\" label";
    AlertSeverityRulesHint => "Une ligne par valeur : « warning: urgent » (critical, urgent ou normal). Sans correspondance : urgent.", "One line per value: \"warning: urgent\" (critical, urgent or normal). No match: urgent.";
    AlertCriteriaRules => "Critères du §2.1 selon les labels", "§2.1 criteria from labels";
    AlertCriteriaRulesHint => "Une ligne par règle : « alertname=HighErrorRate: critical_errors ».", "One line per rule: \"alertname=HighErrorRate: critical_errors\".";
    AlertRulesSaved => "Règles des alertes enregistrées", "Alert rules saved";
    OpenedByAlert => "Ouvert par une alerte", "Opened by an alert";
    EventAlertReceived => "Alerte reçue", "Alert received";
    EventAlertResolved => "Alerte résolue (l'incident reste ouvert)", "Alert resolved (the incident stays open)";
    EventExecutionCancelled => "Exécution arrêtée", "Execution cancelled";
    EventExecutionCancelRequested => "Arrêt de l'exécution demandé", "Execution stop asked";
    EventExecutionInterrupted => "Exécution interrompue", "Execution interrupted";
    EventExecutionServerStopped => "Exécution interrompue : le serveur s'est arrêté après l'étape en cours (à reprendre)", "Execution interrupted: the server stopped after the running step (to be resumed)";
    EventEmailResent => "E-mails renvoyés", "Emails sent again";
    EventExecutionRetried => "Étape relancée", "Step retried";
    EventExecutionResumed => "Exécution reprise", "Execution resumed";
    EventExecutionAborted => "Exécution abandonnée", "Execution aborted";
    OnlyDecidersMaySend => "Seuls les quatre rôles du §2.2 envoient les communications de l'incident.", "Only the four §2.2 roles send the incident's communications.";
    SubjectRequired => "Saisissez un objet (300 caractères au plus).", "Enter a subject (at most 300 characters).";
    BodyRequired => "Le message ne peut pas être vide.", "The message cannot be empty.";
    NoRecipients => "Aucun destinataire : cochez des rôles de l'équipe ou collez des adresses valides.", "No recipients: tick team roles or paste valid addresses.";
    EventEmailQueued => "E-mail envoyé", "Email sent";
    EmailsTitle => "Communications (§7)", "Communications (§7)";
    OpenEmails => "Communications (§7)", "Communications (§7)";
    Template => "Modèle", "Template";
    TemplateInternal => "Équipe interne (§7.1)", "Internal team (§7.1)";
    TemplateUsers => "Utilisateurs (§7.2)", "Users (§7.2)";
    ShowEmail => "Afficher", "Show";
    AsItWillArrive => "L'e-mail tel qu'il arrivera", "The email as it will arrive";
    HtmlPart => "Partie HTML", "HTML part";
    Subject => "Objet", "Subject";
    Message => "Message", "Message";
    EditAndSend => "Modifier et envoyer", "Edit and send";
    TeamAudience => "L'équipe (comptes actifs ayant ces rôles)", "The team (active accounts holding these roles)";
    UsersAudience => "Utilisateurs concernés : une adresse par ligne, ou un CSV dont la première colonne est l'adresse (100 000 au plus)", "Affected users: one address per line, or CSV whose first column is the address (at most 100,000)";
    SendEmail => "Envoyer", "Send";
    EmailQueued => "E-mail mis en file pour {n}", "Email queued for {n}";
    DuplicatesRemoved => "doublons retirés", "duplicates removed";
    LinesSkipped => "lignes ignorées (adresses invalides)", "lines skipped (invalid addresses)";
    Deliveries => "Envois", "Sends";
    SentAt => "Envoyé le", "Sent at";
    SentBy => "Par", "By";
    Delivered => "Remis", "Delivered";
    Pending => "En attente", "Pending";
    NotDelivered => "Échecs", "Failed";
    MailTitle => "E-mails envoyés (fichiers)", "Sent emails (files)";
    MailIntro => "Aucun serveur SMTP n'est configuré : chaque e-mail est écrit dans un fichier .eml du dossier de données.", "No SMTP server is configured: each email is written to an .eml file in the data folder.";
    SmtpConfigured => "Un serveur SMTP est configuré : les e-mails partent par SMTP, pas dans des fichiers.", "An SMTP server is configured: emails go out over SMTP, not into files.";
    UploadTooLarge => "Fichier illisible ou trop gros (8 Mo au plus).", "The file could not be read or is too large (at most 8 MB).";
    UploadHasNoAddress => "Le fichier ne contient aucune adresse valide.", "The file holds no valid address.";
    UploadList => "Ou importer un fichier CSV (première colonne : l'adresse ; 8 Mo au plus)", "Or upload a CSV file (first column: the address; at most 8 MB)";
    Upload => "Importer", "Upload";
    UploadedList => "Liste importée : {n}", "Uploaded list: {n}";
    AddressesKept => "adresses retenues", "addresses kept";
    AddressKept => "adresse retenue", "address kept";
    DuplicateRemoved => "doublon retiré", "duplicate removed";
    LineSkipped => "ligne ignorée (adresse invalide)", "line skipped (invalid address)";
    PreviewEmail => "Prévisualiser", "Preview";
    PreviewShown => "Aperçu de l'e-mail modifié ci-dessous : rien n'est envoyé.", "The edited email is shown below: nothing was sent.";
    PlanTitle => "Plan de rollback", "Rollback plan";
    RollbackKind => "Type de rollback", "Rollback type";
    PreparePlan => "Préparer le plan", "Prepare the plan";
    RevisePlan => "Modifier le plan", "Revise the plan";
    PlanPrepared => "Plan préparé.", "Plan prepared.";
    PlanRevised => "Plan modifié : les approbations précédentes ne comptent plus.", "Plan revised: earlier approvals no longer count.";
    TargetRelease => "Release à restaurer", "Release to restore";
    FromRelease => "Release quittée (défectueuse)", "Release left (defective)";
    BackupToRestore => "Sauvegarde à restaurer", "Backup to restore";
    ManualSteps => "Étapes manuelles (une par ligne)", "Manual steps (one per line)";
    StepsHeading => "Étapes", "Steps";
    Proposed => "proposée", "proposed";
    TooRecentBackup => "prise après le déploiement", "taken after the deployment";
    BackupReason => "Sauvegarde la plus récente prise avant le déploiement de {n} (§5.2 étape 3).", "The newest backup taken before the deployment of {n} (§5.2 step 3).";
    ReleaseReason => "Release la plus récente antérieure à la release défectueuse (§4.2 étape 4).", "The newest release older than the defective one (§4.2 step 4).";
    PlanStatusAwaiting => "En attente d'approbation : {n}", "Awaiting approval: {n}";
    PlanStatusReady => "Prêt à exécuter", "Ready to execute";
    PlanStatusRejected => "Rejeté : modifiez le plan pour demander de nouvelles approbations.", "Rejected: revise the plan to ask for new approvals.";
    Fingerprint => "Empreinte", "Fingerprint";
    Revision => "Version", "Revision";
    PreparedBy => "Préparé par", "Prepared by";
    DryRun => "Étapes, dans l'ordre (simulation : rien n'est exécuté ici)", "Steps, in order (dry run: nothing runs here)";
    RunsOnLocal => "Cible locale : chaque chemin est pris sous {n}", "Local target: every path is taken under {n}";
    RunsOnSsh => "Cible SSH : {n}", "SSH target: {n}";
    DataLossWarning => "Attention (§5.1) : la restauration entraîne la perte de toutes les données créées ou modifiées depuis la sauvegarde du {n}.", "Warning (§5.1): the restore loses all data created or modified since the backup of {n}.";
    DataLossSpan => "Période perdue à ce jour : {n}.", "Time span lost as of now: {n}.";
    Approvals => "Approbations", "Approvals";
    Approve => "Approuver", "Approve";
    Reject => "Rejeter", "Reject";
    Verdict => "Avis", "Verdict";
    Comment => "Commentaire", "Comment";
    PlanApproved => "Approbation enregistrée.", "Approval recorded.";
    PlanRejected => "Rejet enregistré : le plan est bloqué.", "Rejection recorded: the plan is blocked.";
    VerdictApproved => "Approuvé", "Approved";
    VerdictRejected => "Rejeté", "Rejected";
    ReviewCounts => "compte jusqu'au {n}", "counts until {n}";
    ReviewExpired => "expirée", "expired";
    ReviewEarlierVersion => "sur une version précédente du plan", "on an earlier version of the plan";
    ApprovalRule => "Il faut {n} approbations de personnes distinctes ayant un rôle du §2.2 ; le demandeur ne peut pas approuver ; un rejet bloque le plan.", "It takes {n} approvals from distinct people holding a §2.2 role; the requester cannot approve; one rejection blocks the plan.";
    ApprovalExpiry => "Une approbation vaut {n} minutes et seulement pour cette empreinte.", "An approval counts for {n} minutes and only for this fingerprint.";
    NoApprovalNeeded => "Rollback applicatif : la décision d'un rôle du §2.2 suffit, sans seconde approbation.", "Application rollback: the decision of a §2.2 role is enough, with no second approval.";
    PlanSection => "Plan de rollback", "Rollback plan";
    OpenPlan => "Ouvrir le plan", "Open the plan";
    BackToIncident => "Retour à l'incident", "Back to the incident";
    StepRef => "§", "§";
    WhatItDoes => "Action", "What it does";
    ExactCommand => "Commande exacte", "Exact command";
    OpReadCurrent => "Lire la release courante", "Read the current release";
    OpSwitchRelease => "Basculer current (atomique : nouveau lien puis renommage)", "Switch current (atomic: new link, then rename)";
    OpRunCommand => "Lancer une commande", "Run a command";
    OpHttpCheck => "Vérifier que le site répond", "Check that the site answers";
    OpMaintenanceOn => "Mettre la page de maintenance", "Put up the maintenance page";
    OpMaintenanceOff => "Retirer la page de maintenance", "Remove the maintenance page";
    OpVerifyBackup => "Vérifier la sauvegarde (gzip entier, somme sha256)", "Verify the backup (whole gzip, sha256 sum)";
    OpRestoreDatabase => "Restaurer la base (flux décompressé, sans fichier temporaire)", "Restore the database (decompressed stream, no temporary file)";
    OpVerifyDatabase => "Vérifier la base", "Verify the database";
    OpCleanUp => "Nettoyer les fichiers temporaires", "Clean up temporary files";
    OpManual => "Étape manuelle", "Manual step";
    PlanNeedsDecision => "Le plan se prépare après une décision de rollback.", "The plan is prepared after a rollback decision.";
    EventPlanPrepared => "Plan préparé", "Plan prepared";
    EventPlanRevised => "Plan modifié", "Plan revised";
    EventPlanApproved => "Plan approuvé", "Plan approved";
    EventPlanRejected => "Plan rejeté", "Plan rejected";
    EventPlanWithdrawn => "Plan retiré par son auteur", "Plan withdrawn by its author";
    EventPlanReady => "Plan prêt à exécuter", "Plan ready to execute";
    NoInventoryYet => "Pas encore d'inventaire.", "No inventory yet.";
    CurrentRelease => "Release courante (readlink current)", "Current release (readlink current)";
    CurrentMissing => "Le lien current n'existe pas.", "The current link does not exist.";
    CurrentDangling => "Le lien current pointe vers un dossier qui n'existe pas : {n}", "The current link points to a folder that does not exist: {n}";
    CurrentOutside => "current pointe hors des releases : {n}", "current points outside the releases: {n}";
    Releases => "Releases", "Releases";
    Backups => "Sauvegardes", "Backups";
    TakenAt => "Prise le", "Taken at";
    Size => "Taille", "Size";
    Ignored => "Noms ignorés (hors format attendu, jamais utilisés)", "Ignored names (unexpected format, never used)";
    Current => "courante", "current";
    EnvironmentsTitle => "Environnements", "Environments";
    VersionInvalid => "Saisissez une version (ex. v1.2.0).", "Enter a version (e.g. v1.2.0).";
    ReleaseInvalid => "Le nom de release attendu est AAAA-MM-JJ_HHMMSS (ex. 2025-10-17_104523).", "The release name must be YYYY-MM-DD_HHMMSS (e.g. 2025-10-17_104523).";
    DeployedInFuture => "Le déploiement ne peut pas être dans le futur.", "The deployment can't be in the future.";
    UnknownChecklistItem => "Élément de checklist inconnu.", "Unknown checklist item.";
    ReleaseAlreadyRecorded => "Cette release est déjà enregistrée pour cet environnement.", "This release is already recorded for this environment.";
    DeploymentRecorded => "Déploiement de {n} enregistré.", "Deployment of {n} recorded.";
    RecordDeployment => "Enregistrer un déploiement", "Record a deployment";
    Version => "Version", "Version";
    Release => "Release", "Release";
    DeployedAt => "Déployé le", "Deployed at";
    RolledBackAt => "Rollback le", "Rolled back on";
    RollbackReason => "Raison du rollback", "Rollback reason";
    VersionTable => "Numéros de version et dates de déploiement (§11.2)", "Version numbers and deployment dates (§11.2)";
    Checklist => "Checklist pré-déploiement (§9.2)", "Pre-deployment checklist (§9.2)";
    NoDeployments => "Aucun déploiement enregistré.", "No deployment recorded.";
    CheckTestsGreen => "Les tests automatisés sont tous au vert", "All automated tests are green";
    CheckCodeReviewed => "Le code a été revu et approuvé", "The code was reviewed and approved";
    CheckDocsUpdated => "La documentation est à jour", "The documentation is up to date";
    CheckMigrationsTested => "Les migrations ont été testées", "The migrations were tested";
    CheckRecentBackup => "Une sauvegarde récente existe", "A recent backup exists";
    CheckTeamAvailable => "L'équipe est disponible pour le support", "The team is available for support";
    CheckOffPeak => "Le déploiement est planifié en heures creuses", "The deployment is scheduled off-peak";
    CheckUsersNotified => "Les utilisateurs ont été prévenus si nécessaire", "Users were notified if needed";
    CheckRollbackPlanReady => "Le plan de rollback est prêt", "The rollback plan is ready";
    TargetTimeZone => "Fuseau horaire de la cible (noms des releases et sauvegardes)", "The target's time zone (release and backup names)";
    FieldTimeZone => "Un fuseau horaire IANA, ex. Europe/Paris.", "An IANA time zone, e.g. Europe/Paris.";
    AdminSections => "Sections d'administration", "Admin sections";
    EditIncident => "Modifier l'incident", "Edit the incident";
    Save => "Enregistrer", "Save";
    EditedNotice => "Incident modifié.", "Incident updated.";
    EventEdited => "Incident modifié", "Incident edited";
    OpenedBy => "Ouvert par {n}", "Opened by {n}";
    EventCreated => "Incident ouvert", "Incident opened";
    EventStepRecorded => "Étape enregistrée", "Step recorded";
    EventDecided => "Décision prise", "Decision taken";
    EventCommented => "Commentaire", "Comment";
    EventOverdue => "Délai de décision de 30 minutes dépassé", "30-minute decision deadline passed";
    EventStateChanged => "Changement d'état", "State changed";
    EventCancelled => "Incident annulé", "Incident cancelled";
    StateDetected => "Détecté", "Detected";
    StateEvaluating => "En évaluation", "Evaluating";
    StateDecided => "Décidé", "Decided";
    StateAwaitingApproval => "En attente d'approbation", "Awaiting approval";
    StateExecuting => "En exécution", "Executing";
    StateVerifying => "En vérification", "Verifying";
    StateMonitoring => "Sous surveillance", "Monitoring";
    StateResolved => "Résolu", "Resolved";
    StateClosed => "Clos", "Closed";
    StateFixForward => "Correctif sans rollback", "Fix forward";
    StateCancelled => "Annulé", "Cancelled";
    SeverityCritical => "Critique", "Critical";
    SeverityUrgent => "Urgent", "Urgent";
    SeverityNormal => "Normal", "Normal";
    CriterionCriticalErrors => "Erreurs critiques empêchant l'accès à l'application", "Critical errors preventing access to the application";
    CriterionUserDataLoss => "Perte de données utilisateur", "User data loss";
    CriterionMajorPerformance => "Problèmes de performance majeurs (temps de réponse > 10 secondes)", "Major performance problems (response time > 10 seconds)";
    CriterionIrreversibleMigration => "Erreurs de migration de base de données irréversibles", "Irreversible database migration errors";
    CriterionSecurityFlaw => "Failles de sécurité découvertes après déploiement", "Security flaws discovered after deployment";
    CriterionProductionIncompatibility => "Incompatibilité avec l'environnement de production", "Incompatibility with the production environment";
    CriterionCriticalFeatureFailure => "Dysfonctionnement des fonctionnalités critiques métier", "Malfunction of business-critical features";
    StepIdentification => "Identification du problème", "Identify the problem";
    StepImpactEvaluation => "Évaluation de l'impact", "Evaluate the impact";
    StepNoQuickFix => "Vérification qu'un correctif rapide n'est pas possible", "Check that no quick fix is possible";
    StepDecision => "Décision de rollback", "Rollback decision";
    StepCommunication => "Communication aux parties prenantes", "Communication to stakeholders";
    RollbackApplication => "Rollback applicatif (sans base de données)", "Application rollback (no database)";
    RollbackApplicationDatabase => "Rollback applicatif + base de données", "Application + database rollback";
    RollbackSystem => "Rollback complet (système)", "Full (system) rollback";
    FixForward => "Pas de rollback : corriger en avant", "No rollback: fix forward";
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

impl Msg {
    pub fn state(state: IncidentState) -> Msg {
        use IncidentState as S;
        match state {
            S::Detected => Msg::StateDetected,
            S::Evaluating => Msg::StateEvaluating,
            S::Decided => Msg::StateDecided,
            S::AwaitingApproval => Msg::StateAwaitingApproval,
            S::Executing => Msg::StateExecuting,
            S::Verifying => Msg::StateVerifying,
            S::Monitoring => Msg::StateMonitoring,
            S::Resolved => Msg::StateResolved,
            S::Closed => Msg::StateClosed,
            S::FixForward => Msg::StateFixForward,
            S::Cancelled => Msg::StateCancelled,
        }
    }

    pub fn severity(severity: Severity) -> Msg {
        match severity {
            Severity::Critical => Msg::SeverityCritical,
            Severity::Urgent => Msg::SeverityUrgent,
            Severity::Normal => Msg::SeverityNormal,
        }
    }

    pub fn criterion(criterion: Criterion) -> Msg {
        use Criterion as C;
        match criterion {
            C::CriticalErrors => Msg::CriterionCriticalErrors,
            C::UserDataLoss => Msg::CriterionUserDataLoss,
            C::MajorPerformance => Msg::CriterionMajorPerformance,
            C::IrreversibleMigration => Msg::CriterionIrreversibleMigration,
            C::SecurityFlaw => Msg::CriterionSecurityFlaw,
            C::ProductionIncompatibility => Msg::CriterionProductionIncompatibility,
            C::CriticalFeatureFailure => Msg::CriterionCriticalFeatureFailure,
        }
    }

    pub fn step(step: ValidationStep) -> Msg {
        use ValidationStep as V;
        match step {
            V::Identification => Msg::StepIdentification,
            V::ImpactEvaluation => Msg::StepImpactEvaluation,
            V::NoQuickFix => Msg::StepNoQuickFix,
            V::Decision => Msg::StepDecision,
            V::Communication => Msg::StepCommunication,
        }
    }

    pub fn rollback_type(t: RollbackType) -> Msg {
        match t {
            RollbackType::Application => Msg::RollbackApplication,
            RollbackType::ApplicationDatabase => Msg::RollbackApplicationDatabase,
            RollbackType::System => Msg::RollbackSystem,
        }
    }

    pub fn useful_command(c: crate::domain::environment::UsefulCommand) -> Msg {
        use crate::domain::environment::UsefulCommand as U;
        match c {
            U::Connect => Msg::CmdConnect,
            U::ListReleases => Msg::CmdListReleases,
            U::CurrentRelease => Msg::CmdCurrentRelease,
            U::DatabaseTest => Msg::CmdDatabaseTest,
            U::FollowLogs => Msg::CmdFollowLogs,
            U::ServiceStatus => Msg::CmdServiceStatus,
            U::Resources => Msg::CmdResources,
        }
    }

    pub fn action_status(status: crate::domain::post_mortem::ActionStatus) -> Msg {
        use crate::domain::post_mortem::ActionStatus as A;
        match status {
            A::ToDo => Msg::ActionToDo,
            A::InProgress => Msg::ActionInProgress,
            A::Done => Msg::ActionDone,
        }
    }

    pub fn participant(p: crate::domain::post_mortem::Participant) -> Msg {
        use crate::domain::post_mortem::Participant as P;
        match p {
            P::TechLead => Msg::ParticipantTechLead,
            P::Deployer => Msg::ParticipantDeployer,
            P::Qa => Msg::ParticipantQa,
            P::ProjectManager => Msg::ParticipantProjectManager,
        }
    }

    pub fn event(kind: &str) -> Option<Msg> {
        Some(match kind {
            "created" => Msg::EventCreated,
            "step_recorded" => Msg::EventStepRecorded,
            "decided" => Msg::EventDecided,
            "commented" => Msg::EventCommented,
            "overdue" => Msg::EventOverdue,
            "state_changed" => Msg::EventStateChanged,
            "cancelled" => Msg::EventCancelled,
            "edited" => Msg::EventEdited,
            "plan_prepared" => Msg::EventPlanPrepared,
            "plan_revised" => Msg::EventPlanRevised,
            "plan_approved" => Msg::EventPlanApproved,
            "plan_rejected" => Msg::EventPlanRejected,
            "plan_withdrawn" => Msg::EventPlanWithdrawn,
            "plan_ready" => Msg::EventPlanReady,
            "execution_queued" => Msg::EventExecutionQueued,
            "email_queued" => Msg::EventEmailQueued,
            "execution_started" => Msg::EventExecutionStarted,
            "step_started" => Msg::EventStepStarted,
            "step_succeeded" => Msg::EventStepSucceeded,
            "step_failed" => Msg::EventStepFailed,
            "execution_succeeded" => Msg::EventExecutionSucceeded,
            "execution_cancelled" => Msg::EventExecutionCancelled,
            "execution_cancel_requested" => Msg::EventExecutionCancelRequested,
            "execution_interrupted" => Msg::EventExecutionInterrupted,
            "execution_server_stopped" => Msg::EventExecutionServerStopped,
            "email_resent" => Msg::EventEmailResent,
            "execution_kill_requested" => Msg::EventExecutionKillRequested,
            "execution_retried" => Msg::EventExecutionRetried,
            "execution_resumed" => Msg::EventExecutionResumed,
            "execution_aborted" => Msg::EventExecutionAborted,
            "checklist_item_ticked" => Msg::EventChecklistItemTicked,
            "automatic_check" => Msg::EventAutomaticCheck,
            "check_rerun_requested" => Msg::EventCheckRerunRequested,
            "monitoring_check_failed" => Msg::EventMonitoringCheckFailed,
            "monitoring_check_confirmed" => Msg::EventMonitoringCheckConfirmed,
            "incident_resolved" => Msg::EventIncidentResolved,
            "post_mortem_created" => Msg::EventPostMortemCreated,
            "post_mortem_saved" => Msg::EventPostMortemSaved,
            "post_mortem_finalized" => Msg::EventPostMortemFinalized,
            "post_mortem_reminded" => Msg::EventPostMortemReminded,
            "alert_received" => Msg::EventAlertReceived,
            "alert_resolved" => Msg::EventAlertResolved,
            _ => return None,
        })
    }
}

impl Msg {
    pub fn operation(op: &crate::domain::runbook::Operation) -> Msg {
        use crate::domain::runbook::Operation as O;
        match op {
            O::ReadCurrent { .. } => Msg::OpReadCurrent,
            O::SwitchRelease { .. } => Msg::OpSwitchRelease,
            O::RunCommand { .. } => Msg::OpRunCommand,
            O::HttpCheck { .. } => Msg::OpHttpCheck,
            O::MaintenanceOn { .. } => Msg::OpMaintenanceOn,
            O::MaintenanceOff { .. } => Msg::OpMaintenanceOff,
            O::VerifyBackup { .. } => Msg::OpVerifyBackup,
            O::RestoreDatabase { .. } => Msg::OpRestoreDatabase,
            O::VerifyDatabase { .. } => Msg::OpVerifyDatabase,
            O::Manual { .. } => Msg::OpManual,
            O::CleanUp { .. } => Msg::OpCleanUp,
        }
    }

    pub fn checklist_item(item: crate::domain::deployment::ChecklistItem) -> Msg {
        use crate::domain::deployment::ChecklistItem as C;
        match item {
            C::TestsGreen => Msg::CheckTestsGreen,
            C::CodeReviewed => Msg::CheckCodeReviewed,
            C::DocsUpdated => Msg::CheckDocsUpdated,
            C::MigrationsTested => Msg::CheckMigrationsTested,
            C::RecentBackup => Msg::CheckRecentBackup,
            C::TeamAvailable => Msg::CheckTeamAvailable,
            C::OffPeak => Msg::CheckOffPeak,
            C::UsersNotified => Msg::CheckUsersNotified,
            C::RollbackPlanReady => Msg::CheckRollbackPlanReady,
        }
    }
}

/// A duration as people write it: "8 min", "2 h 05", "3 j 4 h" (fr) / "3 d 4 h" (en).
pub fn duration_text(lang: Lang, minutes: i64) -> String {
    let m = minutes.abs();
    let day = match lang {
        Lang::Fr => "j",
        Lang::En => "d",
    };
    if m < 60 {
        format!("{m} min")
    } else if m < 24 * 60 {
        format!("{} h {:02}", m / 60, m % 60)
    } else {
        format!("{} {day} {} h", m / (24 * 60), (m % (24 * 60)) / 60)
    }
}

/// A span of local time for people: "le 17/10/2025 entre 14h22 et 16h42", and when it ends on
/// another day "du 17/10/2025 à 23h50 au 18/10/2025 à 01h10" (both days named).
pub fn time_range<Tz: chrono::TimeZone>(
    lang: Lang,
    from: &chrono::DateTime<Tz>,
    to: &chrono::DateTime<Tz>,
) -> String
where
    Tz::Offset: std::fmt::Display,
{
    let same_day = from.date_naive() == to.date_naive();
    match (lang, same_day) {
        (Lang::Fr, true) => format!(
            "le {} entre {} et {}",
            from.format("%d/%m/%Y"),
            from.format("%Hh%M"),
            to.format("%Hh%M")
        ),
        (Lang::Fr, false) => format!(
            "du {} à {} au {} à {}",
            from.format("%d/%m/%Y"),
            from.format("%Hh%M"),
            to.format("%d/%m/%Y"),
            to.format("%Hh%M")
        ),
        (Lang::En, true) => format!(
            "on {} between {} and {}",
            from.format("%Y-%m-%d"),
            from.format("%H:%M"),
            to.format("%H:%M")
        ),
        (Lang::En, false) => format!(
            "from {} {} to {} {}",
            from.format("%Y-%m-%d"),
            from.format("%H:%M"),
            to.format("%Y-%m-%d"),
            to.format("%H:%M")
        ),
    }
}

/// A count with its noun in the right number: "1 ligne ignorée", "2 lignes ignorées"; French
/// takes the singular for 0 and 1, English only for 1.
pub fn count(lang: Lang, n: i64, one: &str, many: &str) -> String {
    let singular = match lang {
        Lang::Fr => n.abs() < 2,
        Lang::En => n.abs() == 1,
    };
    format!("{n} {}", if singular { one } else { many })
}

/// [`count`] with the nouns of two messages.
pub fn plural(lang: Lang, n: impl TryInto<i64>, one: Msg, many: Msg) -> String {
    count(
        lang,
        n.try_into().unwrap_or(i64::MAX),
        one.text(lang),
        many.text(lang),
    )
}

/// A message to show on the next page, in the reader's language when it is rendered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Text {
    pub msg: Msg,
    pub value: Option<String>,
    /// A moment the value names at `{at}`, written in the reader's time zone when shown
    /// ([`crate::viewer::Viewer::render`]): a message made on the server knows no reader.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<chrono::DateTime<chrono::Utc>>,
}

impl Text {
    pub fn plain(msg: Msg) -> Text {
        Text {
            msg,
            value: None,
            at: None,
        }
    }

    pub fn with(msg: Msg, value: impl std::fmt::Display) -> Text {
        Text {
            msg,
            value: Some(value.to_string()),
            at: None,
        }
    }

    /// A value with a moment in it: `value` holds `{at}` where the moment goes.
    pub fn with_moment(
        msg: Msg,
        value: impl Into<String>,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Text {
        Text {
            msg,
            value: Some(value.into()),
            at: Some(at),
        }
    }

    /// In `lang`, a moment in UTC (for readers without a time zone: scripts, logs).
    pub fn render(&self, lang: Lang) -> String {
        self.render_with(lang, |at| at.format("%Y-%m-%d %H:%M UTC").to_string())
    }

    /// In `lang`, a moment written by `moment`.
    pub fn render_with(
        &self,
        lang: Lang,
        moment: impl Fn(chrono::DateTime<chrono::Utc>) -> String,
    ) -> String {
        match (&self.value, self.at) {
            (Some(v), Some(at)) => self.msg.fill(lang, v.replace("{at}", &moment(at))),
            (Some(v), None) => self.msg.fill(lang, v),
            (None, _) => self.msg.text(lang).to_owned(),
        }
    }
}

impl From<Msg> for Text {
    fn from(msg: Msg) -> Text {
        Text::plain(msg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn durations_read_as_people_write_them() {
        assert_eq!(duration_text(Lang::Fr, 8), "8 min");
        assert_eq!(duration_text(Lang::Fr, 125), "2 h 05");
        assert_eq!(duration_text(Lang::En, 125), "2 h 05");
        assert_eq!(duration_text(Lang::Fr, 60), "1 h 00");
        assert_eq!(duration_text(Lang::Fr, 3 * 24 * 60 + 4 * 60 + 7), "3 j 4 h");
        assert_eq!(duration_text(Lang::En, 3 * 24 * 60 + 4 * 60 + 7), "3 d 4 h");
        // The "592040 minutes" of an old post-mortem.
        assert_eq!(duration_text(Lang::En, 592_040), "411 d 3 h");
    }

    #[test]
    fn a_range_across_midnight_names_both_days() {
        let tz = chrono_tz::Europe::Paris;
        let from = tz.with_ymd_and_hms(2025, 10, 17, 14, 22, 0).unwrap();
        let to = tz.with_ymd_and_hms(2025, 10, 17, 16, 42, 0).unwrap();
        assert_eq!(
            time_range(Lang::Fr, &from, &to),
            "le 17/10/2025 entre 14h22 et 16h42"
        );
        assert_eq!(
            time_range(Lang::En, &from, &to),
            "on 2025-10-17 between 14:22 and 16:42"
        );
        let late = tz.with_ymd_and_hms(2025, 10, 17, 23, 50, 0).unwrap();
        let next = tz.with_ymd_and_hms(2025, 10, 18, 1, 10, 0).unwrap();
        assert_eq!(
            time_range(Lang::Fr, &late, &next),
            "du 17/10/2025 à 23h50 au 18/10/2025 à 01h10"
        );
        assert_eq!(
            time_range(Lang::En, &late, &next),
            "from 2025-10-17 23:50 to 2025-10-18 01:10"
        );
    }

    #[test]
    fn plurals_in_both_languages() {
        assert_eq!(
            count(Lang::Fr, 1, "doublon retiré", "doublons retirés"),
            "1 doublon retiré"
        );
        assert_eq!(
            count(Lang::Fr, 0, "ligne ignorée", "lignes ignorées"),
            "0 ligne ignorée"
        );
        assert_eq!(
            count(Lang::Fr, 3, "ligne ignorée", "lignes ignorées"),
            "3 lignes ignorées"
        );
        assert_eq!(
            count(Lang::En, 1, "line skipped", "lines skipped"),
            "1 line skipped"
        );
        assert_eq!(
            count(Lang::En, 0, "line skipped", "lines skipped"),
            "0 lines skipped"
        );
    }
}
